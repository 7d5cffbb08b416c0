import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchName, partitionOf } from "../../src/observe/archive";
import {
  bodyCapture,
  capUtf8,
  fitBodies,
  jsonSize,
  loggedBody,
  redactSecrets,
} from "../../src/observe/bodies";
import { retryDelaySeconds, isDeadLetterQueue } from "../../src/observe/consumer";
import { callLogLine } from "../../src/observe/log-line";
import { metricsDataPoint } from "../../src/observe/metrics";
import { CallRecord } from "../../src/observe/record";
import { retentionDays } from "../../src/observe/retention";

const record: CallRecord = {
  id: "5d0c6a0e-0000-4000-8000-000000000001",
  time: "2026-11-28T09:15:00.000Z",
  requestId: "req-1",
  keyId: "key_0123456789abcdef",
  keyName: "laptop",
  team: "ml",
  route: null,
  provider: "databricks",
  model: "databricks-claude-sonnet-4",
  requestType: "messages",
  status: 200,
  stream: true,
  outcome: "complete",
  inputTokens: 12,
  cacheReadTokens: 8,
  cacheWriteTokens: 2,
  outputTokens: 34,
  reasoningTokens: 5,
  tokensEstimated: false,
  costUsd: 0.000546,
  durationMs: 1200,
  firstByteMs: 150,
  attempts: 1,
  errorCode: null,
  userAgent: "claude-cli/2.1",
  requestTags: { key: "laptop", team: "ml" },
};

describe("call record", () => {
  it("the schema accepts a record and refuses one with a field of the wrong kind", () => {
    expect(CallRecord.safeParse(record).success).toBe(true);
    expect(CallRecord.safeParse({ ...record, outcome: "finished" }).success).toBe(false);
    expect(CallRecord.safeParse({ ...record, inputTokens: -1 }).success).toBe(false);
    expect(CallRecord.safeParse({ ...record, time: "yesterday" }).success).toBe(false);
    expect(CallRecord.safeParse({ ...record, cacheReadTokens: -1 }).success).toBe(false);
  });

  it("a record from a gateway that did not count the cache yet is read with those counts at 0", () => {
    const { cacheReadTokens: _r, cacheWriteTokens: _w, reasoningTokens: _o, ...older } = record;
    expect(CallRecord.parse(older)).toEqual({
      ...record,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
  });

  it("its log line names fields as OpenTelemetry's GenAI conventions do, and never holds bodies", () => {
    const line = callLogLine({ ...record, requestBody: "secret prompt", responseBody: "secret answer" });
    expect(line).toMatchObject({
      msg: "call",
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "databricks",
      "gen_ai.request.model": "databricks-claude-sonnet-4",
      "gen_ai.usage.input_tokens": 12,
      "gen_ai.usage.cache_read.input_tokens": 8,
      "gen_ai.usage.cache_creation.input_tokens": 2,
      "gen_ai.usage.output_tokens": 34,
      "gen_ai.usage.reasoning.output_tokens": 5,
      "http.response.status_code": 200,
      "user_agent.original": "claude-cli/2.1",
      "bricklane.team": "ml",
    });
    expect(JSON.stringify(line)).not.toContain("secret");
    expect(line).not.toHaveProperty("error.type");
    expect(callLogLine({ ...record, errorCode: "upstream_error" })["error.type"]).toBe("upstream_error");
  });

  it("its metrics data point keeps the documented column order", () => {
    const point = metricsDataPoint({ ...record, firstByteMs: null, tokensEstimated: true });
    expect(point.indexes).toEqual(["key_0123456789abcdef"]);
    expect(point.blobs?.slice(0, 5)).toEqual([
      "key_0123456789abcdef",
      "ml",
      "databricks",
      "databricks-claude-sonnet-4",
      "200",
    ]);
    expect(point.doubles).toEqual([12, 34, 0.000546, 1200, -1, 200, 1, 1, 8, 2, 5]);
  });
});

describe("the R2 layout", () => {
  it("partitions by UTC date and hour", () => {
    expect(partitionOf(Date.parse("2026-11-28T09:15:00Z"))).toBe("date=2026-11-28/hour=09");
    expect(partitionOf(Date.parse("2026-12-31T23:59:59.999Z"))).toBe("date=2026-12-31/hour=23");
  });

  it("names a batch after its message ids, whatever their order", async () => {
    const a = await batchName(["m1", "m2", "m3"]);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await batchName(["m3", "m1", "m2"])).toBe(a);
    expect(await batchName(["m1", "m2"])).not.toBe(a);
  });
});

describe("logged bodies", () => {
  it("redact the given secrets, virtual keys and Databricks tokens", () => {
    const vk = `bl-${"A".repeat(43)}`;
    const pat = `dapi${"0123456789abcdef".repeat(2)}`;
    const text = `key ${vk} pat ${pat}-2 and token emu-oauth-xyz and plain text`;
    const out = redactSecrets(text, ["emu-oauth-xyz"]);
    expect(out).toBe("key [redacted] pat [redacted] and token [redacted] and plain text");
  });

  it("are capped in UTF-8 bytes at a character boundary", () => {
    expect(capUtf8("abc", 3)).toEqual({ text: "abc", truncated: false });
    expect(capUtf8("abcd", 3)).toEqual({ text: "abc", truncated: true });
    // "é" is two bytes: a cap inside it keeps the character out rather than half of it.
    expect(capUtf8("aé", 2)).toEqual({ text: "a", truncated: true });
    const big = loggedBody("x".repeat(40_000), []);
    expect(new TextEncoder().encode(big.text).length).toBe(32 * 1024);
    expect(big.truncated).toBe(true);
  });

  it("that fit their room are kept as they are", () => {
    expect(fitBodies(["abc", "de"], 9)).toEqual({ texts: ["abc", "de"], truncated: false });
  });

  it("that do not are cut: the smaller kept whole while it fits its share, the larger to what is left", () => {
    const small = "x".repeat(100);
    const large = "\\".repeat(1000);
    // As JSON: 102 bytes and 2002 (each backslash escaped), in a room of 1002.
    const { texts, truncated } = fitBodies([large, small], 1002);
    expect(truncated).toBe(true);
    expect(texts[1]).toBe(small);
    expect(large.startsWith(texts[0] ?? "-")).toBe(true);
    expect(jsonSize(texts[0])).toBeLessThanOrEqual(1002 - 102);
    // Not cut more than it had to be: one more character would not fit.
    expect(jsonSize(large.slice(0, (texts[0]?.length ?? 0) + 1))).toBeGreaterThan(900);
  });

  it("are cut to an even share each when both are large", () => {
    const controls = "\u0001".repeat(3000); // six bytes each as JSON
    const text = "y".repeat(9000);
    const { texts } = fitBodies([controls, text], 4000);
    expect(jsonSize(texts[0])).toBeLessThanOrEqual(2000);
    expect(jsonSize(texts[0])).toBeGreaterThan(1990);
    expect(jsonSize(texts[0]) + jsonSize(texts[1])).toBeLessThanOrEqual(4000);
  });

  it("always fit, as prefixes of what they were, never cut inside a character", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 400 }), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 4, max: 2000 }),
        (bodies, budget) => {
          const { texts, truncated } = fitBodies(bodies, budget);
          const sizes = texts.map((t) => jsonSize(t));
          const whole = bodies.every((b, i) => texts[i] === b);
          expect(truncated).toBe(!whole);
          expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(budget);
          texts.forEach((t, i) => {
            expect(bodies[i]?.startsWith(t)).toBe(true);
            // A cut never leaves half a surrogate pair (it would be stored as U+FFFD).
            if (t !== bodies[i]) expect(t).toBe(new TextDecoder().decode(new TextEncoder().encode(t)));
          });
        },
      ),
    );
  });

  it("a stream's copy passes every byte on unchanged and keeps the first ones", async () => {
    const capture = bodyCapture(8);
    const chunks = Array.from({ length: 30 }, (_, i) =>
      new TextEncoder().encode(`data: ${i} ${"y".repeat(90)}\n\n`),
    );
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const out = await new Response(source.pipeThrough(capture.stream)).text();
    await capture.settled;
    expect(out).toBe(chunks.map((c) => new TextDecoder().decode(c)).join(""));
    // The cap plus a margin, so a secret that starts before the cap is whole when redacted.
    expect(capture.text()).toBe(out.slice(0, 8 + 1024));
  });

  it("a stream's copy settles when the reader cancels", async () => {
    const capture = bodyCapture();
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
    });
    const reader = source.pipeThrough(capture.stream).getReader();
    await reader.read();
    await reader.cancel();
    await capture.settled;
    expect(capture.text()).toMatch(/^data: x/);
  });
});

describe("consumer and retention settings", () => {
  it("retries later each time, up to five minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelaySeconds)).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it("tells the dead-letter queue by its name", () => {
    expect(isDeadLetterQueue("bricklane-calls-dlq")).toBe(true);
    expect(isDeadLetterQueue("bricklane-calls")).toBe(false);
  });

  it("reads CALL_LOG_RETENTION_DAYS, falling back to 30 days", () => {
    expect(retentionDays({ CALL_LOG_RETENTION_DAYS: "7" as "30" })).toBe(7);
    for (const bad of ["0", "-3", "1.5", "soon", ""]) {
      expect(retentionDays({ CALL_LOG_RETENTION_DAYS: bad as "30" })).toBe(30);
    }
  });
});
