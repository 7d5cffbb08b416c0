import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/observe/record";
import { adminCalls, deliver } from "./call-log-helpers";
import { uniqueName } from "./helpers";

let n = 0;
/** A record of a made-up call, on a key id unique to the test. */
function record(keyId: string, overrides: Partial<CallRecord> = {}): CallRecord {
  n += 1;
  return {
    id: crypto.randomUUID(),
    time: new Date().toISOString(),
    requestId: `req-${n}`,
    keyId,
    keyName: "consumer test",
    team: null,
    route: null,
    provider: "p",
    model: "m",
    requestType: "chat",
    status: 200,
    stream: false,
    outcome: "complete",
    inputTokens: 10,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 20,
    reasoningTokens: 0,
    tokensEstimated: false,
    costUsd: 0.0003,
    durationMs: 100,
    firstByteMs: 50,
    attempts: 1,
    errorCode: null,
    userAgent: null,
    requestTags: null,
    ...overrides,
  };
}

const keyId = () => `key_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;

/** A D1 binding whose every statement fails, as during an outage. */
const failingDb = {
  prepare() {
    return {
      bind() {
        return this;
      },
    };
  },
  async run() {
    throw new Error("D1_ERROR: database unavailable");
  },
} as unknown as D1Database;

/** An R2 binding that refuses every write. */
const failingBucket = {
  async put() {
    throw new Error("R2 unavailable");
  },
} as unknown as R2Bucket;

async function archived(prefix: string): Promise<string[]> {
  const listing = await env.CALL_ARCHIVE.list({ prefix });
  const texts = await Promise.all(
    listing.objects.map((o) => env.CALL_ARCHIVE.get(o.key).then((b) => b?.text())),
  );
  return texts.flatMap((t) => (t ?? "").split("\n")).filter((l) => l !== "");
}

describe("the call log's queue consumer", () => {
  it("writes a batch to R2 (one JSON line per call, partitioned by hour) and D1, then acknowledges it", async () => {
    const key = keyId();
    const now = Date.now();
    const records = [0, 1, 2].map((i) => record(key, { time: new Date(now - i * 1000).toISOString() }));
    // One message holds a batch of records, as the gateway's outbox sends them.
    const { batch, result } = await deliver([records]);
    expect(result.explicitAcks).toEqual([batch.messages[0]?.id]);
    expect(result.retryMessages).toEqual([]);
    expect((await adminCalls({ key })).json.data.map((c) => c.id)).toEqual(records.map((r) => r.id));
    const partitions = new Set(
      records.map((r) => `calls/date=${r.time.slice(0, 10)}/hour=${r.time.slice(11, 13)}/`),
    );
    const lines = (await Promise.all([...partitions].map(archived)))
      .flat()
      .map((l) => JSON.parse(l) as CallRecord)
      .filter((r) => r.keyId === key);
    expect(lines.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
  });

  it("keeps every field of a record through D1 as it was, nulls, booleans and fractions included", async () => {
    const key = keyId();
    const full = record(key, {
      team: "research",
      route: "fast",
      stream: true,
      outcome: "upstream_cut",
      tokensEstimated: true,
      costUsd: 0.000123456,
      firstByteMs: null,
      errorCode: "upstream_error",
      userAgent: "claude-cli/2.1.332 (external, cli)",
      requestTags: { project: 'é-ñ "quoted"', team: "research" },
      cacheReadTokens: 7,
      cacheWriteTokens: 3,
      reasoningTokens: 11,
    });
    const bare = record(key, { time: new Date(Date.now() - 1000).toISOString() });
    await deliver([[full, bare]]);
    const listed = (await adminCalls({ key })).json.data;
    // Newest first; the view is the record (without bodies, which this record has none of).
    expect(listed).toEqual([full, bare]);
  });

  it("splits a batch that spans hours into one object per hour", async () => {
    const key = keyId();
    const early = record(key, { time: "2026-01-02T03:59:59.000Z" });
    const late = record(key, { time: "2026-01-02T04:00:00.000Z" });
    await deliver([[early, late]]);
    expect((await archived("calls/date=2026-01-02/hour=03/")).some((l) => l.includes(early.id))).toBe(true);
    expect((await archived("calls/date=2026-01-02/hour=04/")).some((l) => l.includes(late.id))).toBe(true);
  });

  it("a batch delivered again adds no second row and no second object", async () => {
    const key = keyId();
    const records = [
      record(key, { time: "2026-02-03T10:00:00.000Z" }),
      record(key, { time: "2026-02-03T10:00:01.000Z" }),
    ];
    const ids = [uniqueName("m"), uniqueName("m")];
    await deliver([[records[0]], [records[1]]], { ids });
    const objects = (await env.CALL_ARCHIVE.list({ prefix: "calls/date=2026-02-03/hour=10/" })).objects
      .length;
    await deliver([[records[1]], [records[0]]], { ids: [...ids].reverse(), attempts: 2 });
    expect((await adminCalls({ key })).json.data).toHaveLength(2);
    expect((await env.CALL_ARCHIVE.list({ prefix: "calls/date=2026-02-03/hour=10/" })).objects).toHaveLength(
      objects,
    );
  });

  it("when D1 fails, every message is handed back to the queue for a later try, none acknowledged", async () => {
    const key = keyId();
    const messages = [[record(key), record(key)], [record(key)]];
    const { result } = await deliver(messages, { env: { ...env, CALLS_DB: failingDb } });
    expect(result.explicitAcks).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(result.retryMessages).toHaveLength(2);
    // The next delivery, with D1 back, stores them once.
    const again = await deliver(messages, { attempts: 2 });
    expect(again.result.explicitAcks).toHaveLength(2);
    expect((await adminCalls({ key })).json.data).toHaveLength(3);
  });

  it("when R2 fails, the records are retried and D1 is not written ahead of the lakehouse copy", async () => {
    const key = keyId();
    const { result } = await deliver([[record(key)]], { env: { ...env, CALL_ARCHIVE: failingBucket } });
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
    expect((await adminCalls({ key })).json.data).toEqual([]);
  });

  it("a message that does not hold only call records is retried whole (to end in the dead-letter queue); the rest are stored", async () => {
    const key = keyId();
    const good = record(key);
    const besideJunk = record(key);
    const { batch, result } = await deliver([
      [good],
      [besideJunk, { hello: "world" }],
      [{ ...record(key), outcome: "finished" }],
      [],
      "not even an object",
    ]);
    const [goodMessage, ...bad] = batch.messages;
    expect(result.explicitAcks).toEqual([goodMessage?.id]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId).sort()).toEqual(
      bad.map((m) => m.id).sort(),
    );
    // A record beside junk is not stored on its own: its message goes to the dead letters whole.
    expect((await adminCalls({ key })).json.data.map((c) => c.id)).toEqual([good.id]);
  });

  it("stores messages of one record each, as gateways before batched messages sent them", async () => {
    const key = keyId();
    const old = record(key, { time: new Date(Date.now() - 1000).toISOString() });
    const batched = record(key);
    const { result } = await deliver([old, [batched]]);
    expect(result.explicitAcks).toHaveLength(2);
    expect((await adminCalls({ key })).json.data.map((c) => c.id)).toEqual([batched.id, old.id]);
  });
});

describe("the dead-letter queue's consumer", () => {
  it("keeps every message, record or not, in R2 under dead-letter/ and acknowledges the batch", async () => {
    const key = keyId();
    const lost = record(key);
    const before = Date.now();
    const { batch, result } = await deliver([[lost], { hello: "world" }], {
      queue: "bricklane-calls-dlq",
      attempts: 6,
    });
    expect(result.ackAll).toBe(true);
    const iso = new Date(before).toISOString();
    const lines = (await archived(`dead-letter/date=${iso.slice(0, 10)}/`)).map(
      (l) => JSON.parse(l) as { messageId: string; attempts: number; body: unknown },
    );
    const ids = batch.messages.map((m) => m.id);
    const mine = lines.filter((l) => ids.includes(l.messageId));
    expect(mine).toEqual([
      { messageId: ids[0], attempts: 6, body: [lost] },
      { messageId: ids[1], attempts: 6, body: { hello: "world" } },
    ]);
    // Dead letters are not calls: D1 is left alone.
    expect((await adminCalls({ key })).json.data).toEqual([]);
  });

  it("if R2 refuses the dead letters too, the batch fails so the dead-letter queue tries again", async () => {
    await expect(
      deliver([[record(keyId())]], {
        queue: "bricklane-calls-dlq",
        env: { ...env, CALL_ARCHIVE: failingBucket },
      }),
    ).rejects.toThrow("R2 unavailable");
  });
});
