import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { insertCalls } from "../../src/observe/calls-table";
import type { CallRecord } from "../../src/observe/record";
import { adminCalls } from "./call-log-helpers";

const keyId = () => `key_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;

function call(overrides: Partial<CallRecord> & Pick<CallRecord, "keyId" | "time">): CallRecord {
  return {
    id: crypto.randomUUID(),
    requestId: crypto.randomUUID(),
    keyName: "admin calls test",
    team: null,
    route: null,
    provider: "alpha",
    model: "m1",
    requestType: "chat",
    status: 200,
    stream: true,
    outcome: "complete",
    inputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 2,
    reasoningTokens: 0,
    tokensEstimated: false,
    costUsd: 0,
    durationMs: 10,
    firstByteMs: 5,
    attempts: 1,
    errorCode: null,
    userAgent: null,
    requestTags: null,
    ...overrides,
  };
}

/** 30 calls of one key on 2026-03-01 (one every 10 minutes from 00:00), mixed providers, models, statuses. */
const KEY = keyId();
const TEAM = `team${crypto.randomUUID().slice(0, 8)}`;
const calls: CallRecord[] = Array.from({ length: 30 }, (_, i) =>
  call({
    keyId: KEY,
    time: new Date(Date.UTC(2026, 2, 1, 0, i * 10)).toISOString(),
    team: i % 3 === 0 ? TEAM : null,
    provider: i % 2 === 0 ? "alpha" : "beta",
    model: i % 5 === 0 ? "special/model" : "m1",
    status: i % 7 === 0 ? 502 : 200,
    requestTags: i === 0 ? { key: "admin calls test", team: TEAM } : null,
  }),
);
// Two calls in the same millisecond: the id breaks the tie, so paging neither skips nor repeats one.
const tied = [0, 1].map(() => call({ keyId: KEY, time: "2026-03-02T12:00:00.000Z" }));
const newestFirst = [...calls, ...tied].sort((a, b) =>
  a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1,
);

beforeAll(async () => {
  await insertCalls(env.CALLS_DB, [...calls, ...tied]);
});

describe("GET /admin/calls", () => {
  it("answers the documented fields, newest first", async () => {
    const { status, json } = await adminCalls({ key: KEY, limit: "3" });
    expect(status).toBe(200);
    expect(json.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 3).map((c) => c.id));
    const oldest = (await adminCalls({ key: KEY, limit: "500" })).json.data.at(-1);
    expect(oldest).toEqual({
      id: calls[0]?.id,
      requestId: calls[0]?.requestId,
      time: "2026-03-01T00:00:00.000Z",
      keyId: KEY,
      keyName: "admin calls test",
      team: TEAM,
      route: null,
      provider: "alpha",
      model: "special/model",
      requestType: "chat",
      status: 502,
      stream: true,
      outcome: "complete",
      inputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
      tokensEstimated: false,
      costUsd: 0,
      durationMs: 10,
      firstByteMs: 5,
      attempts: 1,
      errorCode: null,
      userAgent: null,
      requestTags: { key: "admin calls test", team: TEAM },
    });
  });

  it("pages with the cursor through every call exactly once", async () => {
    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { key: KEY, limit: "7", ...(cursor && { cursor }) };
      const { json } = await adminCalls(query);
      seen.push(...json.data.map((c) => c.id));
      cursor = json.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toEqual(newestFirst.map((c) => c.id));
  });

  it("filters by team, provider, model and status, together with the key", async () => {
    const ids = async (q: Record<string, string>) =>
      (await adminCalls({ key: KEY, limit: "500", ...q })).json.data.map((c) => c.id);
    const expected = (keep: (c: CallRecord) => boolean) => newestFirst.filter(keep).map((c) => c.id);
    expect(await ids({ team: TEAM })).toEqual(expected((c) => c.team === TEAM));
    expect(await ids({ provider: "beta" })).toEqual(expected((c) => c.provider === "beta"));
    expect(await ids({ model: "special/model" })).toEqual(expected((c) => c.model === "special/model"));
    expect(await ids({ status: "502" })).toEqual(expected((c) => c.status === 502));
    expect(await ids({ provider: "beta", status: "502" })).toEqual(
      expected((c) => c.provider === "beta" && c.status === 502),
    );
  });

  it("takes a time range as days or instants; a day as `to` includes the whole day", async () => {
    const count = async (q: Record<string, string>) =>
      (await adminCalls({ key: KEY, limit: "500", ...q })).json.data.length;
    expect(await count({ from: "2026-03-01", to: "2026-03-01" })).toBe(30);
    expect(await count({ from: "2026-03-02" })).toBe(2);
    expect(await count({ to: "2026-03-01T00:50:00Z" })).toBe(6);
    expect(await count({ from: "2026-03-01T01:00:00+01:00", to: "2026-03-01T00:30:00Z" })).toBe(4);
  });

  it("refuses what it cannot answer, naming the parameter", async () => {
    for (const [query, param] of [
      [{ limit: "0" }, "limit"],
      [{ limit: "501" }, "limit"],
      [{ status: "abc" }, "status"],
      [{ key: "not-a-key" }, "key"],
      [{ from: "yesterday" }, "from"],
      [{ cursor: "garbage" }, "cursor"],
      [{ color: "blue" }, "color"],
      [{ from: "2026-03-02", to: "2026-03-01" }, "from"],
    ] as const) {
      const { status, json } = await adminCalls(query);
      expect(status, JSON.stringify(query)).toBe(400);
      expect(JSON.stringify(json)).toContain(param);
    }
  });

  it("needs the admin token", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("http://gateway.test/admin/calls"), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(401);
  });
});

describe("call log retention", () => {
  it("the Cron Trigger deletes calls older than CALL_LOG_RETENTION_DAYS from D1 and keeps the rest", async () => {
    const key = keyId();
    const now = Date.UTC(2026, 5, 15, 12);
    const day = 86_400_000;
    const old = call({ keyId: key, time: new Date(now - 8 * day).toISOString() });
    const edge = call({ keyId: key, time: new Date(now - 7 * day + 1000).toISOString() });
    const fresh = call({ keyId: key, time: new Date(now - day).toISOString() });
    await insertCalls(env.CALLS_DB, [old, edge, fresh]);

    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 * * * *" }), {
      ...env,
      CALL_LOG_RETENTION_DAYS: "7" as "30",
    });
    const left = (await adminCalls({ key })).json.data.map((c) => c.id);
    expect(left).toEqual([fresh.id, edge.id]);
  });
});
