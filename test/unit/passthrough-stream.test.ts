import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anthropicObserver } from "../../src/formats/anthropic/passthrough-observer";
import { openAiObserver } from "../../src/formats/openai/passthrough-observer";
import { passthroughBody, type FrameObserver, type StreamReport } from "../../src/formats/passthrough";
import { NO_TOKENS } from "../../src/formats/usage";
import { Redactor } from "../../src/upstream/redactor";

const SECRET = "dapi-5f0c2b9e8d7a6f5e4d3c2b1a09f8e7d6";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const frame = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
const contentChunk = (text: string) =>
  frame({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }], usage: null });
const finishChunk = frame({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null });
const usageChunk = frame({
  choices: [],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
});
const done = "data: [DONE]\n\n";

/** The frames of a whole text as the passthrough has always cut them: up to each first blank line. */
function referenceFrames(text: string): { frames: string[]; rest: string } {
  const frames: string[] = [];
  let rest = text;
  for (let m = /\r\n\r\n|\n\n|\r\r/.exec(rest); m; m = /\r\n\r\n|\n\n|\r\r/.exec(rest)) {
    frames.push(rest.slice(0, m.index + m[0].length));
    rest = rest.slice(m.index + m[0].length);
  }
  return { frames, rest };
}

/** Splits `bytes` at the given cut points, as a network would. */
function chunkedBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) parts.push(bytes.slice(last, p));
    last = p;
  }
  return parts;
}

const chunked = (text: string, cuts: number[]) => chunkedBytes(encoder.encode(text), cuts);

/**
 * An upstream body that gives `parts` one per read (as a network does, never ahead of the reader), then
 * ends, or fails the read after the last part; it records a cancel and its reason.
 */
function upstream(parts: Uint8Array[], opts: { fail?: boolean } = {}) {
  const state = { cancelled: false, reason: undefined as unknown };
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        const part = parts[i++];
        if (part) c.enqueue(part);
        else if (opts.fail) c.error(new Error("connection reset"));
        else c.close();
      },
      cancel(reason) {
        state.cancelled = true;
        state.reason = reason;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

type RunOptions = { fail?: boolean; format?: "openai" | "anthropic"; secret?: string | null };

function start(parts: Uint8Array[], observer: FrameObserver, opts: RunOptions = {}) {
  const reports: StreamReport[] = [];
  const up = upstream(parts, opts);
  const stream = passthroughBody(up.body, {
    format: opts.format ?? "openai",
    observer,
    redaction: Redactor.for(opts.secret === undefined ? SECRET : opts.secret).stream(),
    onEnd: (r) => reports.push(r),
  });
  return { stream, reports, state: up.state };
}

async function run(parts: Uint8Array[], observer: FrameObserver, opts: RunOptions = {}) {
  const { stream, reports } = start(parts, observer, opts);
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  expect(reports).toHaveLength(1);
  const out = decoder.decode(concat(chunks));
  return { out, chunks, report: reports[0] as StreamReport };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The OpenAI observer, recording every frame it was given. */
function recording(dropUsageChunk: boolean) {
  const inner = openAiObserver({ dropUsageChunk });
  const frames: string[] = [];
  const observer: FrameObserver = {
    observe: (f) => {
      frames.push(f);
      return inner.observe(f);
    },
    finished: (failed) => inner.finished(failed),
    get sawErrorEvent() {
      return inner.sawErrorEvent;
    },
    get usage() {
      return inner.usage;
    },
    get outputChars() {
      return inner.outputChars;
    },
    mayDrop: inner.mayDrop,
  };
  return { observer, frames };
}

const texts = fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });
const cuts = fc.array(fc.nat(), { maxLength: 10 });

describe("passthroughBody with the OpenAI observer", () => {
  it("passes every byte through unchanged when nothing is to be removed, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(texts, cuts, async (words, points) => {
        const input = words.map(contentChunk).join("") + finishChunk + usageChunk + done;
        const { out, report } = await run(chunked(input, points), openAiObserver({ dropUsageChunk: false }));
        expect(out).toBe(input);
        expect(report.end).toBe("complete");
        expect(report.usage).toEqual({ ...NO_TOKENS, inputTokens: 11, outputTokens: 7, estimated: false });
        expect(report.outputChars).toBe(words.join("").length);
      }),
    );
  });

  it("removes exactly the usage-only chunk when the gateway asked for it, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(texts, cuts, async (words, points) => {
        const kept = words.map(contentChunk).join("") + finishChunk;
        const { out, report } = await run(
          chunked(kept + usageChunk + done, points),
          openAiObserver({ dropUsageChunk: true }),
        );
        expect(out).toBe(kept + done);
        expect(report.usage?.inputTokens).toBe(11);
        expect(report.end).toBe("complete");
      }),
    );
  });

  it("re-encodes nothing: every byte sent is a view of a chunk the upstream sent, also around a dropped frame", async () => {
    // (With a secret to look for, a chunk tail that may begin it is joined to the next chunk.)
    await fc.assert(
      fc.asyncProperty(texts, cuts, fc.boolean(), async (words, points, drop) => {
        const parts = chunked(words.map(contentChunk).join("") + finishChunk + usageChunk + done, points);
        const { chunks } = await run(parts, openAiObserver({ dropUsageChunk: drop }), { secret: null });
        const buffers = new Set(parts.map((p) => p.buffer));
        for (const chunk of chunks) expect(buffers.has(chunk.buffer)).toBe(true);
      }),
    );
  });

  it("gives the observer the frames a whole-text split gives, for any line breaks and any split", async () => {
    const line = fc.constantFrom("\n", "\r\n", "\r");
    const piece = fc.oneof(
      fc.string({ maxLength: 6 }),
      line,
      fc.constantFrom("data: x", "event: y", ": c", "data: [DONE]"),
    );
    const stream = fc.array(piece, { maxLength: 30 }).map((ps) => ps.join(""));
    await fc.assert(
      fc.asyncProperty(stream, cuts, fc.boolean(), async (text, points, drop) => {
        const { observer, frames } = recording(drop);
        const { out } = await run(chunked(text, points), observer);
        const reference = referenceFrames(text);
        const observed = reference.rest === "" ? reference.frames : [...reference.frames, reference.rest];
        expect(frames).toEqual(observed);
        // Nothing here is a usage-only chunk, so everything goes on (then the in-band error of a stream
        // without its end).
        expect(out.startsWith(text)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps multi-byte UTF-8 intact when the network splits inside a character", async () => {
    const unicode = fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(unicode, cuts, fc.boolean(), async (words, points, drop) => {
        const kept = words.map(contentChunk).join("") + finishChunk;
        const parts = chunkedBytes(encoder.encode(kept + usageChunk + done), points);
        const { out, report } = await run(parts, openAiObserver({ dropUsageChunk: drop }));
        expect(out).toBe(drop ? kept + done : kept + usageChunk + done);
        expect(report.outputChars).toBe(words.join("").length);
      }),
    );
  });

  it("keeps CRLF-framed streams intact", async () => {
    const input =
      contentChunk("a").replace(/\n/g, "\r\n") + finishChunk.replace(/\n/g, "\r\n") + "data: [DONE]\r\n\r\n";
    const { out, report } = await run(chunked(input, [3, 9, 30]), openAiObserver({ dropUsageChunk: true }));
    expect(out).toBe(input);
    expect(report.end).toBe("complete");
  });

  it("appends an in-band error when the upstream ends before finishing", async () => {
    const input = contentChunk("partial");
    for (const drop of [true, false]) {
      const { out, report } = await run(chunked(input, []), openAiObserver({ dropUsageChunk: drop }));
      const { frames } = referenceFrames(out);
      expect(frames[0]).toBe(input);
      expect(frames.at(-1)).toMatch(/^data: \{"error":\{"message":"The upstream stream ended/);
      expect(frames).toHaveLength(2);
      expect(report.end).toBe("upstream_cut");
    }
  });

  it("ends a frame cut off half way before the in-band error, and still sends the half frame", async () => {
    const half = 'data: {"choices":[{"index":0,"delta":{"content":"ha';
    for (const drop of [true, false]) {
      const { out, report } = await run(
        chunked(contentChunk("x") + half, [5]),
        openAiObserver({ dropUsageChunk: drop }),
        { fail: true },
      );
      const { frames } = referenceFrames(out);
      expect(frames.slice(0, 2)).toEqual([contentChunk("x"), `${half}\n\n`]);
      expect(frames[2]).toMatch(/^data: \{"error":\{"message":"The upstream stream ended/);
      expect(report.end).toBe("upstream_cut");
    }
  });

  it("treats a read failure after the finish chunk, before [DONE], as a cut", async () => {
    const { out, report } = await run(
      chunked(contentChunk("x") + finishChunk, []),
      openAiObserver({ dropUsageChunk: false }),
      { fail: true },
    );
    expect(out).toContain('"error"');
    expect(report.end).toBe("upstream_cut");
  });

  it("accepts a clean end after finish_reason without [DONE]", async () => {
    const { out, report } = await run(
      chunked(contentChunk("x") + finishChunk, []),
      openAiObserver({ dropUsageChunk: false }),
    );
    expect(out).not.toContain('"error"');
    expect(report.end).toBe("complete");
  });

  it("reports an upstream error event without adding another", async () => {
    const input = contentChunk("x") + frame({ error: { message: "overloaded" } });
    const { out, report } = await run(chunked(input, []), openAiObserver({ dropUsageChunk: false }));
    expect(out).toBe(input);
    expect(report.end).toBe("upstream_error_event");
  });

  it("survives garbage frames without throwing", async () => {
    const input = "data: {not json\n\n: comment\n\nevent: x\n\n" + finishChunk + done;
    const { out, report } = await run(chunked(input, []), openAiObserver({ dropUsageChunk: true }));
    expect(out).toBe(input);
    expect(report.usage).toBeNull();
  });

  it("takes the provider's secret out of an upstream error event, wherever the network splits it", async () => {
    const echoed = frame({ error: { message: `invalid credentials 'Bearer ${SECRET}'` } });
    const input = contentChunk("x") + echoed;
    const expected = input.replace(SECRET, "[redacted]");
    await fc.assert(
      fc.asyncProperty(cuts, fc.boolean(), async (points, drop) => {
        const { out, report } = await run(chunked(input, points), openAiObserver({ dropUsageChunk: drop }));
        expect(out).toBe(expected);
        expect(report.end).toBe("upstream_error_event");
      }),
      { seed: 31, numRuns: 300 },
    );
  });

  it("takes out a secret left at the end of a cut stream, and still ends with the in-band error", async () => {
    const input = contentChunk("x") + `data: {"error":{"message":"Bearer ${SECRET.slice(0, 24)}`;
    const { out, report } = await run(
      chunked(input, [input.length - 10]),
      openAiObserver({ dropUsageChunk: false }),
      { fail: true },
    );
    expect(out).not.toContain(SECRET.slice(0, 12));
    expect(out).toContain("[redacted]");
    expect(referenceFrames(out).frames.at(-1)).toMatch(
      /^data: \{"error":\{"message":"The upstream stream ended/,
    );
    expect(report.end).toBe("upstream_cut");
  });

  it("sends the upstream's own chunks on, the same objects, as each arrives", async () => {
    const parts = [contentChunk("a"), contentChunk("b"), finishChunk, done].map((p) => encoder.encode(p));
    for (const drop of [false, true]) {
      const { stream } = start(parts, openAiObserver({ dropUsageChunk: drop }));
      const reader = stream.getReader();
      for (const part of parts) expect((await reader.read()).value).toBe(part);
      expect((await reader.read()).done).toBe(true);
    }
  });

  it("reads on past a chunk that sends nothing (the dropped usage chunk alone)", async () => {
    const parts = [contentChunk("a"), finishChunk, usageChunk, done].map((p) => encoder.encode(p));
    const { stream } = start(parts, openAiObserver({ dropUsageChunk: true }));
    const reader = stream.getReader();
    expect((await reader.read()).value).toBe(parts[0]);
    expect((await reader.read()).value).toBe(parts[1]);
    // One read of the client's: the usage chunk is taken and dropped, and [DONE] comes with it.
    expect((await reader.read()).value).toBe(parts[3]);
    expect((await reader.read()).done).toBe(true);
  });

  it("a cancel cancels the upstream body with its reason, and reports client_cancelled once", async () => {
    const parts = [contentChunk("a"), contentChunk("b"), finishChunk, done].map((p) => encoder.encode(p));
    const { stream, reports, state } = start(parts, openAiObserver({ dropUsageChunk: false }));
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel("client left");
    expect(state.cancelled).toBe(true);
    expect(state.reason).toBe("client left");
    expect(reports).toEqual([{ usage: null, outputChars: 1, end: "client_cancelled" }]);
  });

  it("a cancel while a read of the upstream is pending ends the stream without another report", async () => {
    let pendingPull: () => void = () => {};
    const pulled = new Promise<void>((resolve) => (pendingPull = resolve));
    const state = { cancelled: false };
    const body = new ReadableStream<Uint8Array>(
      {
        pull() {
          pendingPull();
          return new Promise<void>(() => {}); // an upstream that never answers
        },
        cancel() {
          state.cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const reports: StreamReport[] = [];
    const stream = passthroughBody(body, {
      format: "openai",
      observer: openAiObserver({ dropUsageChunk: true }),
      redaction: Redactor.for(SECRET).stream(),
      onEnd: (r) => reports.push(r),
    });
    const reader = stream.getReader();
    const read = reader.read();
    await pulled;
    await reader.cancel();
    expect((await read).done).toBe(true);
    expect(state.cancelled).toBe(true);
    expect(reports.map((r) => r.end)).toEqual(["client_cancelled"]);
  });
});

describe("passthroughBody with the Anthropic observer", () => {
  const event = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const answer = (words: string[]) =>
    event("message_start", { message: { usage: { input_tokens: 9, output_tokens: 1 } } }) +
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
    event("ping", {}) +
    words
      .map((w) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text: w } }))
      .join("") +
    event("content_block_stop", { index: 0 }) +
    event("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 5 } }) +
    event("message_stop", {});

  it("passes the bytes through and reads usage and the end, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(texts, cuts, async (words, points) => {
        const input = answer(words);
        const { out, report } = await run(chunked(input, points), anthropicObserver(), {
          format: "anthropic",
        });
        expect(out).toBe(input);
        expect(report).toEqual({
          usage: { ...NO_TOKENS, inputTokens: 9, outputTokens: 5, estimated: false },
          outputChars: words.join("").length,
          end: "complete",
        });
      }),
    );
  });

  it("a stream without message_stop ends with an Anthropic error event", async () => {
    const input = answer(["a"]).replace(/event: message_stop[^]*$/, "");
    const { out, report } = await run(chunked(input, []), anthropicObserver(), { format: "anthropic" });
    expect(out.startsWith(input)).toBe(true);
    expect(referenceFrames(out).frames.at(-1)).toMatch(/^event: error\ndata: \{"type":"error"/);
    expect(report.end).toBe("upstream_cut");
  });
});
