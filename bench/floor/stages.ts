import type { FrameObserver } from "../../src/formats/passthrough";
import { passthroughBody } from "../../src/formats/passthrough";
import { asServed } from "../../src/http/served-stream";
import { openAiObserver } from "../../src/formats/openai/passthrough-observer";
import { Redactor } from "../../src/upstream/redactor";

/** Stands in for the provider secret the gateway redacts (its value does not matter to the cost). */
const BENCH_SECRET = "dapi-local-emulator-pat";

/**
 * What the floor does with an upstream body, by variant (the first path segment). `floor` returns it as
 * it came; `decode` adds one TransformStream that decodes every chunk and passes it on (the cheapest
 * reading stage there is); `pull` is one stream that reads the upstream body itself and enqueues each
 * chunk (the cost of a JS stage alone); the `passthrough…` variants are the gateway's passthrough SSE
 * relay (src/formats/passthrough.ts), with more of its work switched on in each; `pull+pipe` and
 * `passthrough:served` are `pull` and the whole passthrough stage served as the gateway serves a stream.
 */
type Stage = (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;

function decodingPassThrough(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  return new TransformStream({
    transform(chunk, controller) {
      decoder.decode(chunk, { stream: true });
      controller.enqueue(chunk);
    },
  });
}

function pulled(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The stream as the gateway serves it (`asServed`, src/http/served-stream.ts): piped into a native stream in
 * workerd; as it is where there is none (the Node microbenchmark).
 */
const served =
  (stage: Stage): Stage =>
  (body) =>
    asServed(stage(body));

/** Reads no frame: the cost of finding and decoding the frames alone. */
const framesOnly = (): FrameObserver => ({
  observe: () => true,
  finished: () => true,
  sawErrorEvent: false,
  usage: null,
  outputChars: 0,
  mayDrop: false,
});

/** The gateway's passthrough stage over the upstream body, with the given observer. */
function relay(observer: () => FrameObserver): Stage {
  return (body) =>
    passthroughBody(body, {
      format: "openai",
      observer: observer(),
      // The gateway redacts its provider's secret in the same stage: measure it doing so.
      redaction: Redactor.for(BENCH_SECRET).stream(),
      onEnd: () => {},
    });
}

export const STAGES: Record<string, Stage> = {
  floor: (body) => body,
  decode: (body) => body.pipeThrough(decodingPassThrough()),
  pull: pulled,
  // The passthrough stage: the secret looked for, frames found and each decoded, none read.
  "passthrough:frames": relay(framesOnly),
  // + each frame read by the OpenAI observer for usage and the end (a client that asked for usage itself).
  "passthrough:read": relay(() => openAiObserver({ dropUsageChunk: false })),
  // + frames held until complete and the usage chunk the gateway asked for dropped (the default).
  "passthrough:read+drop": relay(() => openAiObserver({ dropUsageChunk: true })),
  // A stage that only reads each chunk and passes it on, served as the gateway serves its streams: the
  // least any relay that must see every byte (to take the provider's secret out) costs in workerd.
  "pull+pipe": served(pulled),
  // The gateway's passthrough stage, served as the gateway serves it.
  "passthrough:served": served(relay(() => openAiObserver({ dropUsageChunk: true }))),
};
