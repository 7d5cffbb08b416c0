import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openAiObserver } from "../../src/formats/openai/passthrough-observer";
import { passthroughStream, type StreamReport } from "../../src/formats/passthrough";
import { splitFrames } from "../../src/formats/sse";
import { Redactor } from "../../src/upstream/redactor";

const SECRET = "dapi-5f0c2b9e8d7a6f5e4d3c2b1a09f8e7d6";

const frame = (data: unknown) => `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
const contentChunk = (text: string) =>
  frame({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }], usage: null });
const finishChunk = frame({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null });
const usageChunk = frame({
  choices: [],
  usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
});
const done = "data: [DONE]\n\n";

/** Splits `text` at the given cut points, as a network would. */
function chunked(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(text.slice(last, p));
    last = p;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p !== "");
}

async function run(parts: Array<string | Uint8Array>, dropUsageChunk: boolean, upstreamFailed = false) {
  let report: StreamReport | undefined;
  const tap = passthroughStream({
    format: "openai",
    observer: openAiObserver({ dropUsageChunk }),
    redaction: Redactor.for(SECRET).stream(),
    upstreamFailed: () => upstreamFailed,
    onEnd: (r) => (report = r),
  });
  const encoder = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(typeof p === "string" ? encoder.encode(p) : p);
      c.close();
    },
  });
  let out = "";
  const reader = source.pipeThrough(tap.stream).pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    out += value;
  }
  return { out, report: report! };
}

const texts = fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });
const cuts = fc.array(fc.nat(), { maxLength: 10 });

describe("passthroughStream with the OpenAI observer", () => {
  it("passes every byte through unchanged when nothing is to be removed, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(texts, cuts, async (words, points) => {
        const input = words.map(contentChunk).join("") + finishChunk + usageChunk + done;
        const { out, report } = await run(chunked(input, points), false);
        expect(out).toBe(input);
        expect(report.end).toBe("complete");
        expect(report.usage).toEqual({ inputTokens: 11, outputTokens: 7, estimated: false });
        expect(report.outputChars).toBe(words.join("").length);
      }),
    );
  });

  it("removes exactly the usage-only chunk when the gateway asked for it, however the stream is split", async () => {
    await fc.assert(
      fc.asyncProperty(texts, cuts, async (words, points) => {
        const kept = words.map(contentChunk).join("") + finishChunk;
        const { out, report } = await run(chunked(kept + usageChunk + done, points), true);
        expect(out).toBe(kept + done);
        expect(report.usage?.inputTokens).toBe(11);
      }),
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
        const bytes = new TextEncoder().encode(kept + usageChunk + done);
        const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let last = 0;
        for (const p of [...sorted, bytes.length]) {
          if (p > last) parts.push(bytes.slice(last, p));
          last = p;
        }
        const { out, report } = await run(parts, drop);
        expect(out).toBe(drop ? kept + done : kept + usageChunk + done);
        expect(report.outputChars).toBe(words.join("").length);
      }),
    );
  });

  it("keeps CRLF-framed streams intact", async () => {
    const input =
      contentChunk("a").replace(/\n/g, "\r\n") + finishChunk.replace(/\n/g, "\r\n") + "data: [DONE]\r\n\r\n";
    const { out, report } = await run(chunked(input, [3, 9, 30]), true);
    expect(out).toBe(input);
    expect(report.end).toBe("complete");
  });

  it("appends an in-band error when the upstream ends before finishing", async () => {
    const input = contentChunk("partial");
    for (const drop of [true, false]) {
      const { out, report } = await run([input], drop);
      const frames = splitFrames(out).frames;
      expect(frames[0]).toBe(input);
      expect(frames.at(-1)).toMatch(/^data: \{"error":\{"message":"The upstream stream ended/);
      expect(report.end).toBe("upstream_cut");
    }
  });

  it("treats a read failure after the finish chunk, before [DONE], as a cut", async () => {
    const { out, report } = await run([contentChunk("x"), finishChunk], false, true);
    expect(out).toContain('"error"');
    expect(report.end).toBe("upstream_cut");
  });

  it("accepts a clean end after finish_reason without [DONE]", async () => {
    const { out, report } = await run([contentChunk("x"), finishChunk], false, false);
    expect(out).not.toContain('"error"');
    expect(report.end).toBe("complete");
  });

  it("reports an upstream error event without adding another", async () => {
    const input = contentChunk("x") + frame({ error: { message: "overloaded" } });
    const { out, report } = await run([input], false);
    expect(out).toBe(input);
    expect(report.end).toBe("upstream_error_event");
  });

  it("survives garbage frames without throwing", async () => {
    const input = "data: {not json\n\n: comment\n\nevent: x\n\n" + finishChunk + done;
    const { out, report } = await run([input], true);
    expect(out).toBe(input);
    expect(report.usage).toBeNull();
  });

  it("takes the provider's secret out of an upstream error event, wherever the network splits it", async () => {
    const echoed = frame({ error: { message: `invalid credentials 'Bearer ${SECRET}'` } });
    const input = contentChunk("x") + echoed;
    const expected = input.replace(SECRET, "[redacted]");
    await fc.assert(
      fc.asyncProperty(cuts, fc.boolean(), async (points, drop) => {
        const { out, report } = await run(chunked(input, points), drop);
        expect(out).toBe(expected);
        expect(report.end).toBe("upstream_error_event");
      }),
      { seed: 31, numRuns: 300 },
    );
  });

  it("takes out a secret left at the end of a cut stream, and still ends with the in-band error", async () => {
    const input = contentChunk("x") + `data: {"error":{"message":"Bearer ${SECRET.slice(0, 24)}`;
    const { out, report } = await run(chunked(input, [input.length - 10]), false, true);
    expect(out).not.toContain(SECRET.slice(0, 12));
    expect(out).toContain("[redacted]");
    expect(splitFrames(out).frames.at(-1)).toMatch(/^data: \{"error":\{"message":"The upstream stream ended/);
    expect(report.end).toBe("upstream_cut");
  });

  it("sends the upstream's own chunks on, the same objects, when there is nothing to take out", async () => {
    const encoder = new TextEncoder();
    const parts = [contentChunk("a"), contentChunk("b"), finishChunk, done].map((p) => encoder.encode(p));
    const tap = passthroughStream({
      format: "openai",
      observer: openAiObserver({ dropUsageChunk: false }),
      redaction: Redactor.for(SECRET).stream(),
      upstreamFailed: () => false,
      onEnd: () => {},
    });
    const writer = tap.stream.writable.getWriter();
    const reader = tap.stream.readable.getReader();
    for (const part of parts) {
      void writer.write(part);
      expect((await reader.read()).value).toBe(part);
    }
    void writer.close();
    expect((await reader.read()).done).toBe(true);
  });
});
