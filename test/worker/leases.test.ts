import { env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LeaseTable, type LeaseIo } from "../../src/limits/leases";
import { WINDOW_MS } from "../../src/limits/windows";
import { admin, chat, createKey, putProvider, uniqueName, userMessage } from "./helpers";

/** Leases against the real Limiter object, with time passed in rather than waited for. */

const stubOf = (name: string) => env.LIMITER.get(env.LIMITER.idFromName(name));

type Step = { dt: number; holder: number; action: "renew" | "use" | "giveBack"; want: number };

const step: fc.Arbitrary<Step> = fc.record({
  // Mostly calls close together, sometimes past a lease's end, now and then most of a window.
  dt: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 30 },
    { arbitrary: fc.integer({ min: 100, max: 2500 }), weight: 4 },
    { arbitrary: fc.integer({ min: 20_000, max: WINDOW_MS }), weight: 1 },
  ),
  holder: fc.integer({ min: 0, max: 2 }),
  action: fc.oneof(
    { arbitrary: fc.constant("renew" as const), weight: 2 },
    { arbitrary: fc.constant("use" as const), weight: 6 },
    { arbitrary: fc.constant("giveBack" as const), weight: 1 },
  ),
  want: fc.integer({ min: 1, max: 40 }),
});

type Held = { id: string; count: number; expiresAt: number; uses: number[] };

const stats: { rpm: number; worst: number }[] = [];

describe("leases keep rpm exact", () => {
  it("never lets the requests used in any 60 s exceed rpm, across holders, renewals and returns", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(step, { minLength: 40, maxLength: 100 }),
        async (rpm, steps) => {
          const stub = stubOf(`key:prop-${uniqueName()}`);
          await stub.configure({ status: "active", expiresAt: null, limits: { rpm } });
          let now = 1_800_000_000_000;
          const holders = Array.from({ length: 3 }, () => ({
            lease: null as Held | null,
            retired: [] as Held[],
          }));
          const granted: Held[] = [];
          for (const s of steps) {
            now += s.dt;
            const h = holders[s.holder];
            if (!h) continue;
            if (h.lease && now >= h.lease.expiresAt) {
              h.retired.push(h.lease);
              h.lease = null;
            }
            const usable = h.lease !== null && h.lease.uses.length < h.lease.count;
            // A holder renews ahead of need, or when a call finds its lease spent (as an isolate does).
            if (s.action === "renew" || (s.action === "use" && !usable)) {
              const returns = h.retired.map((g) => ({ grantId: g.id, used: g.uses.length }));
              h.retired = [];
              const result = await stub.lease({ returns, want: s.want, seed: null }, now);
              if (result.ok && result.grantId && result.count !== null) {
                if (h.lease) h.retired.push(h.lease);
                h.lease = {
                  id: result.grantId,
                  count: result.count,
                  expiresAt: now + result.ttlMs,
                  uses: [],
                };
                granted.push(h.lease);
              }
            }
            if (s.action === "use" && h.lease && h.lease.uses.length < h.lease.count) {
              h.lease.uses.push(now);
            } else if (s.action === "giveBack" && h.lease && h.lease.uses.length > 0) {
              h.lease.uses.pop();
            }
          }
          const used = granted.flatMap((g) => g.uses).sort((a, b) => a - b);
          let worst = 0;
          for (const t of used) {
            worst = Math.max(worst, used.filter((u) => u > t - WINDOW_MS && u <= t).length);
          }
          expect(worst).toBeLessThanOrEqual(rpm);
          stats.push({ rpm, worst });
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
    // The runs did reach their limits (a property that never fills a window proves nothing).
    expect(stats.filter((s) => s.worst === s.rpm).length).toBeGreaterThan(5);
  }, 60_000);

  it("gives unused requests back when the holder reports, and grants one at a time near the limit", async () => {
    const stub = stubOf(`key:give-${uniqueName()}`);
    await stub.configure({ status: "active", expiresAt: null, limits: { rpm: 40 } });
    const t0 = 1_800_000_000_000;
    const first = await stub.lease({ returns: [], want: 100, seed: null }, t0);
    // A quarter of what is left, at most.
    expect(first).toMatchObject({ ok: true, mode: "lease", count: 10, ttlMs: 1000 });
    if (!first.ok || !first.grantId) throw new Error("expected a grant");
    expect((await stub.live(t0)).requests?.remaining).toBe(30);
    const second = await stub.lease(
      { returns: [{ grantId: first.grantId, used: 3 }], want: 1, seed: null },
      t0 + 10,
    );
    expect(second).toMatchObject({ ok: true, count: 1 });
    expect((await stub.live(t0 + 10)).requests?.remaining).toBe(36);
    // Near the limit every lease is one request, until none is left.
    const near = stubOf(`key:near-${uniqueName()}`);
    await near.configure({ status: "active", expiresAt: null, limits: { rpm: 3 } });
    const counts = [];
    for (let i = 0; i < 4; i++) {
      const r = await near.lease({ returns: [], want: 50, seed: null }, t0 + i);
      counts.push(r.ok ? r.count : r.reason);
    }
    expect(counts).toEqual([1, 1, 1, "rpm"]);
  });

  it("carries status and totals in a lease without a request count when the scope has no rpm", async () => {
    const stub = stubOf(`key:norpm-${uniqueName()}`);
    await stub.configure({ status: "active", expiresAt: null, limits: { tpm: 1000 } });
    const t0 = 1_800_000_000_000;
    await stub.record(
      null,
      {
        provider: "p",
        model: "m",
        inputTokens: 300,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 100,
        reasoningTokens: 0,
        costUsd: 0,
        error: false,
      },
      t0,
    );
    expect(await stub.lease({ returns: [], want: 5, seed: null }, t0 + 1)).toMatchObject({
      ok: true,
      mode: "lease",
      grantId: null,
      count: null,
      totals: { tokens: 400 },
    });
    // A key that expires within the lease time gets a lease that ends with it.
    const expiring = stubOf(`key:exp-${uniqueName()}`);
    await expiring.configure({ status: "active", expiresAt: t0 + 300, limits: null });
    expect(await expiring.lease({ returns: [], want: 1, seed: null }, t0)).toMatchObject({
      ok: true,
      ttlMs: 300,
    });
    expect(await expiring.lease({ returns: [], want: 1, seed: null }, t0 + 300)).toMatchObject({
      ok: false,
      reason: "expired",
    });
  });

  it("asks for per-call admission when the scope caps concurrency", async () => {
    const stub = stubOf(`key:conc-${uniqueName()}`);
    await stub.configure({ status: "active", expiresAt: null, limits: { rpm: 10, maxConcurrent: 2 } });
    const lease = await stub.lease({ returns: [], want: 5, seed: null });
    expect(lease).toMatchObject({ ok: true, mode: "perCall", count: null });
    // No requests were leased: all ten are left for per-call admission.
    expect((await stub.live()).requests?.remaining).toBe(10);
  });
});

describe("revocation through a lease", () => {
  it("stops admitting a key disabled elsewhere within one lease time", async () => {
    const name = uniqueName("k");
    const scope = { kind: "key" as const, name };
    const stub = stubOf(`key:${name}`);
    await stub.configure({ status: "active", expiresAt: null, limits: null });
    let t = 5_000_000;
    const table = new LeaseTable({ now: () => t });
    const background: Promise<unknown>[] = [];
    const io: LeaseIo = { env, waitUntil: (p) => background.push(p) };
    expect(await table.admit(scope, null, io)).toMatchObject({ ok: true });
    // The admin API at another location disables the key: it reaches the limiter, not this isolate.
    await stub.configure({ status: "disabled", expiresAt: null, limits: null });
    t += 400;
    expect(table.admit(scope, null, io)).toMatchObject({ ok: true });
    t += 600;
    // One lease time after the last grant: the next call asks again and is refused.
    expect(await table.admit(scope, null, io)).toMatchObject({ ok: false, reason: "disabled" });
    expect(table.status(scope, null, io)).toMatchObject({ ok: false, reason: "disabled" });
    await Promise.all(background);
  });

  it("applies a change made through this isolate's admin API to the next call", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const { key, id } = await createKey();
    const model = `${provider}/m`;
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { disabled: true });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(401);
    await admin("PATCH", `/keys/${id}`, { disabled: false });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
  });
});
