import { describe, expect, it, vi } from "vitest";
import { UsageBatches, flushMsOf, type BatchIo, type SendBatch } from "../../src/limits/batches";
import type { Scope } from "../../src/limits/client";
import type { UsageBatch } from "../../src/limits/limiter";

/** Usage batches against a recording sender; the flush timer is real but short. */

const key: Scope = { kind: "key", name: "k1" };
const team: Scope = { kind: "team", name: "t1" };
const io = (flushMs: number): BatchIo => ({ env: {} as BatchIo["env"], flushMs });

const call = (
  over: Partial<{
    inputTokens: number;
    cacheReadTokens: number;
    outputTokens: number;
    costUsd: number;
    error: boolean;
    model: string;
  }> = {},
) => ({
  provider: "p",
  model: over.model ?? "m",
  inputTokens: over.inputTokens ?? 10,
  cacheReadTokens: over.cacheReadTokens ?? 0,
  cacheWriteTokens: 0,
  outputTokens: over.outputTokens ?? 5,
  reasoningTokens: 0,
  costUsd: over.costUsd ?? 0.5,
  error: over.error ?? false,
});

function recorder() {
  const sent: { scope: string; batch: UsageBatch }[] = [];
  const send: SendBatch = async (_env, scope, batch) => {
    sent.push({ scope: `${scope.kind}:${scope.name}`, batch });
  };
  return { sent, send };
}

describe("usage batches", () => {
  it("sends many calls as one batch per scope, and each call's promise settles once its batch is sent", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send });
    const done: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      done.push(batches.add(key, call({ model: i % 2 ? "a" : "b" }), null, io(20)).done);
      done.push(batches.add(team, call(), null, io(20)).done);
    }
    let settled = 0;
    for (const d of done) void d.then(() => (settled += 1));
    await Promise.resolve();
    expect(sent).toHaveLength(0);
    expect(settled).toBe(0);
    await Promise.all(done);
    expect(sent.map((s) => s.scope).sort()).toEqual(["key:k1", "team:t1"]);
    const keyBatch = sent.find((s) => s.scope === "key:k1")?.batch;
    expect(keyBatch?.rows.map((r) => [r.model, r.requests]).sort()).toEqual([
      ["a", 5],
      ["b", 5],
    ]);
    expect(keyBatch?.tokens).toBe(150);
    expect(keyBatch?.costUsd).toBeCloseTo(5, 10);
    // A later call opens a new batch with a new id.
    await batches.add(key, call(), null, io(0)).done;
    expect(sent).toHaveLength(3);
    expect(sent[2]?.batch.id).not.toBe(keyBatch?.id);
  });

  it("adds up the cache's and reasoning's shares per row, and keeps cache reads apart from the window's tokens", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send });
    const cached = {
      ...call({ inputTokens: 1110, outputTokens: 20, costUsd: 0.001 }),
      cacheReadTokens: 1000,
      cacheWriteTokens: 100,
      reasoningTokens: 7,
    };
    await Promise.all([
      batches.add(key, cached, null, io(10)).done,
      batches.add(key, cached, null, io(10)).done,
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.batch).toMatchObject({
      rows: [
        {
          requests: 2,
          inputTokens: 2220,
          cacheReadTokens: 2000,
          cacheWriteTokens: 200,
          outputTokens: 40,
          reasoningTokens: 14,
        },
      ],
      tokens: 2 * (110 + 20),
      cacheReadTokens: 2000,
    });
  });

  it("sends a batch as soon as it holds maxCalls calls, without waiting for the timer", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send, maxCalls: 3 });
    const done = [1, 2, 3].map(() => batches.add(key, call(), null, io(60_000)).done);
    await Promise.all(done);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.batch.rows[0]?.requests).toBe(3);
  });

  it("sends a call that frees a concurrency slot at once, with whatever the batch already held", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send });
    const earlier = batches.add(key, call(), null, io(60_000)).done;
    await batches.add(key, call({ error: true }), "slot-1", io(60_000)).done;
    await earlier;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.batch).toMatchObject({ releases: ["slot-1"], rows: [{ requests: 2, errors: 1 }] });
  });

  it("retries a failed flush with the same batch id, and settles the calls once it lands", async () => {
    const ids: string[] = [];
    let failures = 2;
    const batches = new UsageBatches({
      send: async (_env, _scope, batch) => {
        ids.push(batch.id);
        if (failures-- > 0) throw new Error("limiter unreachable");
      },
    });
    await batches.add(key, call(), null, io(0)).done;
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it("logs a batch whole when every try fails, and still settles its calls", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const batches = new UsageBatches({
        send: async () => {
          throw new Error("limiter unreachable");
        },
      });
      await batches.add(key, call({ inputTokens: 123 }), null, io(0)).done;
      expect(errors).toHaveBeenCalledTimes(1);
      const logged = JSON.parse(String(errors.mock.calls[0]?.[0])) as {
        msg: string;
        scope: string;
        batch: UsageBatch;
      };
      expect(logged).toMatchObject({ msg: "usage flush failed", scope: "key:k1" });
      expect(logged.batch.rows[0]).toMatchObject({ inputTokens: 123, requests: 1 });
    } finally {
      errors.mockRestore();
    }
  }, 10_000);

  it("asks only the call that sends a batch to hold its request for it: the opener (timer) and the one that fills it", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send, maxCalls: 4 });
    const added = [1, 2, 3, 4].map(() => batches.add(key, call(), null, io(60_000)));
    expect(added.map((a) => a.hold !== null)).toEqual([true, false, false, true]);
    // One batch, one landing, shared by its calls; set when the batch lands, not before.
    expect(new Set(added.map((a) => a.landing)).size).toBe(1);
    const landing = added[0]?.landing;
    expect(landing?.landedAt).toBeNull();
    const before = Date.now();
    await added[3]?.hold;
    expect(sent).toHaveLength(1);
    expect(landing?.landedAt).toBeGreaterThanOrEqual(before);
    // The opener's hold is the same batch: it settles too, without a second send.
    await added[0]?.hold;
    expect(sent).toHaveLength(1);
  });

  it("sends an overdue batch (its opener never got to it) from the next call, which holds that send", async () => {
    const { sent, send } = recorder();
    const batches = new UsageBatches({ send });
    const start = Date.now();
    const first = batches.add(key, call({ inputTokens: 1 }), null, io(60_000), start);
    // Before the batch is overdue (2 intervals + 1 s), a call joins it.
    const joined = batches.add(key, call({ inputTokens: 2 }), null, io(60_000), start + 120_000);
    expect(joined.hold).toBeNull();
    expect(joined.landing).toBe(first.landing);
    const late = batches.add(key, call({ inputTokens: 4 }), null, io(60_000), start + 121_001);
    expect(late.landing).not.toBe(first.landing);
    expect(late.hold).not.toBeNull();
    await first.done;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.batch.rows[0]).toMatchObject({ requests: 2, inputTokens: 3 });
    expect(first.landing.landedAt).not.toBeNull();
    // The late call opened the next batch, and holds it too.
    expect(late.landing.landedAt).toBeNull();
  });

  it("reads the flush interval from USAGE_FLUSH_MS, with a default", () => {
    expect(flushMsOf({ USAGE_FLUSH_MS: "250" })).toBe(250);
    expect(flushMsOf({})).toBe(1000);
    expect(flushMsOf({ USAGE_FLUSH_MS: "soon" })).toBe(1000);
    expect(flushMsOf({ USAGE_FLUSH_MS: "-5" })).toBe(1000);
    expect(flushMsOf({ USAGE_FLUSH_MS: " " })).toBe(1000);
    expect(flushMsOf({ USAGE_FLUSH_MS: "0" })).toBe(0);
  });
});
