import { describe, expect, it } from "vitest";
import { anthropicSseToOpenAiSse } from "../../../src/formats/translate/anthropic-to-openai-stream";
import { openAiSseToAnthropicSse } from "../../../src/formats/translate/openai-to-anthropic-stream";
import { translateSseStream } from "../../../src/formats/translate/sse";
import { guardedBody } from "../../../src/upstream/guarded-body";
import type { Usage } from "../../../src/formats/usage";
import { anthropicSse, assembleOpenAi, encoder, failingStreamOf, readAll, splitBytes } from "./helpers";

/** A body the test feeds by hand, recording whether the consumer cancelled it. */
function manualBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const state = { cancelled: false as boolean, reason: undefined as unknown };
  let onCancel: () => void = () => {};
  /** Resolves when the consumer has cancelled the body. */
  const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
      onCancel();
    },
  });
  return { body, push: (text: string) => controller.enqueue(encoder.encode(text)), state, cancelled };
}

const start = {
  type: "message_start",
  message: { id: "msg_1", usage: { input_tokens: 3, output_tokens: 1 } },
};
const textStart = { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } };
const delta = (text: string) => ({
  type: "content_block_delta",
  index: 0,
  delta: { type: "text_delta", text },
});

describe("translateSseStream", () => {
  it("forwards each translated frame as soon as its upstream event is complete", async () => {
    const upstream = manualBody();
    const reader = translateSseStream(
      upstream.body,
      anthropicSseToOpenAiSse({ includeUsage: false, model: "m", created: 1 }),
    ).getReader();
    const decoder = new TextDecoder();
    upstream.push(anthropicSse([start]));
    const first = decoder.decode((await reader.read()).value);
    expect(first).toContain('"role":"assistant"');
    upstream.push(anthropicSse([textStart, delta("Hi")]));
    expect(decoder.decode((await reader.read()).value)).toContain('"content":"Hi"');
    await reader.cancel();
  });

  it("cancels the upstream body when the client goes away, and still reports usage once, as cancelled", async () => {
    const upstream = manualBody();
    const usages: { usage: Usage | null; cancelled: boolean | undefined }[] = [];
    const reader = translateSseStream(
      upstream.body,
      anthropicSseToOpenAiSse({
        includeUsage: false,
        model: "m",
        onUsage: (usage, cancelled) => usages.push({ usage, cancelled }),
      }),
    ).getReader();
    upstream.push(anthropicSse([start, textStart, delta("x")]));
    await reader.read();
    await reader.cancel(new Error("client disconnected"));
    // Cancellation travels back through every stage of the pipe.
    await upstream.cancelled;
    expect(usages).toEqual([
      {
        usage: {
          inputTokens: 3,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          outputTokens: 1,
          reasoningTokens: 0,
          estimated: false,
        },
        cancelled: true,
      },
    ]);
  });

  it("ends with an in-band OpenAI error when the upstream body fails mid-stream", async () => {
    const bytes = encoder.encode(anthropicSse([start, textStart, delta("partial")]));
    const out = await readAll(
      translateSseStream(
        failingStreamOf(splitBytes(bytes, [3, 100])),
        anthropicSseToOpenAiSse({ includeUsage: true, model: "m" }),
      ),
    );
    const a = assembleOpenAi(out);
    expect(a.content).toBe("partial");
    expect(a.error?.code).toBe("stream_truncated");
    expect(a.done).toBe(false);
  });

  it("decodes a multi-byte character split across reads", async () => {
    const bytes = encoder.encode(
      anthropicSse([start, textStart, delta("héllo 👋"), { type: "message_stop" }]),
    );
    const emoji = bytes.indexOf(0xf0);
    const a = assembleOpenAi(
      await readAll(
        translateSseStream(
          failingStreamOf(splitBytes(bytes, [emoji + 1, emoji + 2, emoji + 3])),
          anthropicSseToOpenAiSse({ includeUsage: false, model: "m" }),
        ),
      ),
    );
    expect(a.content).toBe("héllo 👋");
    expect(a.done).toBe(true);
  });

  it("works for the other direction with CRLF framing", async () => {
    const crlf =
      'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\r\n\r\ndata: [DONE]\r\n\r\n';
    const out = await readAll(
      translateSseStream(
        failingStreamOf([encoder.encode(crlf)]),
        openAiSseToAnthropicSse({ model: "m", messageId: "msg" }),
      ),
    );
    expect(out).toContain('"text_delta","text":"ok"');
    expect(out).toContain("event: message_stop");
    expect(out).not.toContain("event: error");
  });
});

describe("guardedBody", () => {
  it("closes where the source would error, after everything it delivered", async () => {
    const chunks: number[] = [];
    let failed = false;
    const guarded = guardedBody(failingStreamOf([new Uint8Array([1]), new Uint8Array([2])]), {
      onUpstreamError: () => (failed = true),
    });
    for await (const c of guarded) chunks.push(...c);
    expect(chunks).toEqual([1, 2]);
    expect(failed).toBe(true);
  });
});
