import type { FrameObserver } from "../../src/formats/passthrough";
import { passthroughStream } from "../../src/formats/passthrough";
import { openAiObserver } from "../../src/formats/openai/passthrough-observer";
import { guardedBody } from "../../src/upstream/guarded-body";
import { Redactor } from "../../src/upstream/redactor";

/** Stands in for the provider secret the gateway redacts (its value does not matter to the cost). */
const BENCH_SECRET = "dapi-local-emulator-pat";

/**
 * What the floor does with an upstream body, by variant (the first path segment). `floor` returns it as
 * it came; `decode` adds one TransformStream that decodes every chunk and passes it on (the cheapest JS
 * stage there is); the `guarded…` variants rebuild today's passthrough SSE relay one stage at a time, with
 * the gateway's own stream code.
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

/** Splits frames and reads none of them: the cost of decoding and framing alone. */
const framesOnly = (): FrameObserver => ({
  observe: () => true,
  finished: () => true,
  sawErrorEvent: false,
  usage: null,
  outputChars: 0,
  mayDrop: false,
});

/** Today's tap (src/formats/passthrough.ts) after the guarded body, with the given observer. */
function relay(observer: FrameObserver): Stage {
  return (body) => {
    let failed = false;
    const source = guardedBody(body, { onUpstreamError: () => (failed = true) });
    const tap = passthroughStream({
      format: "openai",
      observer,
      upstreamFailed: () => failed,
      onEnd: () => {},
      // The gateway redacts its provider's secret in the same stage: measure it doing so.
      redaction: Redactor.for(BENCH_SECRET).stream(),
    });
    return source.pipeThrough(tap.stream);
  };
}

export const STAGES: Record<string, Stage> = {
  floor: (body) => body,
  decode: (body) => body.pipeThrough(decodingPassThrough()),
  // The upstream body behind the reader that turns a read failure into an end.
  guarded: (body) => guardedBody(body),
  // + the tap: decode, split into frames, forward the upstream's bytes as they came.
  "guarded+frames": relay(framesOnly()),
  // + each frame's data parsed as JSON for usage and the end (a client that asked for usage itself).
  "guarded+frames+read": relay(openAiObserver({ dropUsageChunk: false })),
  // + frames re-encoded one by one, so the usage chunk the gateway asked for can be dropped (the default).
  "guarded+frames+read+reencode": relay(openAiObserver({ dropUsageChunk: true })),
};
