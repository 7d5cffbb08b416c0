import { describe, expect, it } from "vitest";
import type { Scope } from "../../src/limits/client";
import { LeaseTable, type LeaseIo, type LimiterRpc } from "../../src/limits/leases";
import type { AdmitResult, LeaseRequest, LeaseResult } from "../../src/limits/limiter";

/**
 * The isolate's lease table against a scripted limiter: every round trip is recorded and answered by
 * the test, and time is a number the test moves, so what waits and what does not is exact.
 */

type Call = { req: LeaseRequest; answer: (r: LeaseResult) => void };

function harness() {
  let t = 1_000_000;
  const calls: Call[] = [];
  const admits: Array<(r: AdmitResult) => void> = [];
  const rpc: LimiterRpc = {
    lease: (_env, _scope, req) => new Promise((answer) => calls.push({ req, answer })),
    admit: () => new Promise((answer) => admits.push(answer)),
  };
  const table = new LeaseTable({ now: () => t, rpc });
  const background: Promise<unknown>[] = [];
  const io: LeaseIo = { env: {} as LeaseIo["env"], waitUntil: (p) => background.push(p) };
  return {
    table,
    calls,
    admits,
    io,
    background,
    advance: (ms: number) => (t += ms),
  };
}

const scope: Scope = { kind: "key", name: "k1" };

function granted(count: number | null, extra: Partial<Extract<LeaseResult, { ok: true }>> = {}): LeaseResult {
  return {
    ok: true,
    mode: "lease",
    grantId: count === null ? null : `g${Math.random()}`,
    count,
    ttlMs: 1000,
    limits: count === null ? null : { rpm: 100 },
    totals: { tokens: 0, spentUsd: 0 },
    rate: count === null ? {} : { requests: { limit: 100, remaining: 100 - count, resetMs: 60_000 } },
    ...extra,
  };
}

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

describe("admission from a lease", () => {
  it("makes callers that find no lease share one round trip, then admits from the lease without waiting", async () => {
    const h = harness();
    const waiting = Array.from({ length: 5 }, () => h.table.admit(scope, null, h.io));
    expect(waiting.every((w) => w instanceof Promise)).toBe(true);
    expect(h.calls).toHaveLength(1);
    h.calls[0]?.answer(granted(20));
    const tickets = await Promise.all(waiting);
    expect(tickets.every((t) => t.ok)).toBe(true);
    // The lease has 15 left: the next call is admitted synchronously, and asks nothing.
    const next = h.table.admit(scope, null, h.io);
    expect(next instanceof Promise).toBe(false);
    expect(next).toMatchObject({ ok: true, kind: "lease" });
    expect(h.calls).toHaveLength(1);
  });

  it("queues callers beyond the lease for the next round trip, one at a time", async () => {
    const h = harness();
    const waiting = Array.from({ length: 5 }, () => h.table.admit(scope, null, h.io));
    h.calls[0]?.answer(granted(2));
    await flush();
    // Two were admitted; the other three share the next round trip, which returns nothing (none used yet).
    expect(h.calls).toHaveLength(2);
    // It asks for at least what the callers waiting for it need.
    expect(h.calls[1]?.req.want).toBeGreaterThanOrEqual(3);
    h.calls[1]?.answer(granted(3));
    const tickets = await Promise.all(waiting);
    expect(tickets.filter((t) => t.ok)).toHaveLength(5);
    expect(h.calls).toHaveLength(2);
  });

  it("renews in the background when half the lease is spent, and reports what the old lease used", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(10));
    await first;
    for (let i = 0; i < 3; i++) h.table.admit(scope, null, h.io);
    expect(h.calls).toHaveLength(1);
    // The fifth takes the lease to half: a renewal starts, and the call itself did not wait.
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: true });
    expect(h.calls).toHaveLength(2);
    expect(h.background).toHaveLength(2);
    // Calls go on from the old lease while the renewal is out; no second renewal starts.
    for (let i = 0; i < 3; i++) expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: true });
    expect(h.calls).toHaveLength(2);
    h.calls[1]?.answer(granted(10));
    await flush();
    // The old lease (8 used of 10) is reported on the renewal after.
    h.advance(600);
    h.table.admit(scope, null, h.io);
    expect(h.calls).toHaveLength(3);
    expect(h.calls[2]?.req.returns).toEqual([{ grantId: expect.any(String), used: 8 }]);
  });

  it("renews in the background when half the lease time is gone", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(100));
    await first;
    h.advance(499);
    h.table.admit(scope, null, h.io);
    expect(h.calls).toHaveLength(1);
    h.advance(1);
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: true });
    expect(h.calls).toHaveLength(2);
  });

  it("stops admitting from a lease once it expires, and gives its unused requests back", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(100));
    await first;
    h.advance(1000);
    const after = h.table.admit(scope, null, h.io);
    expect(after instanceof Promise).toBe(true);
    expect(h.calls[1]?.req.returns).toEqual([{ grantId: expect.any(String), used: 1 }]);
    h.calls[1]?.answer(granted(100));
    expect(await after).toMatchObject({ ok: true });
  });

  it("takes a request given back into the lease, and reports it as unused", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(4));
    const ticket = await first;
    if (!ticket.ok || ticket.kind !== "lease") throw new Error("expected a lease ticket");
    h.table.giveBack(ticket);
    const again = h.table.admit(scope, null, h.io);
    expect(again).toMatchObject({ ok: true });
    if (again instanceof Promise || !again.ok || again.kind !== "lease") throw new Error("expected a lease");
    expect(again.rate.requests?.remaining).toBe(99);
    h.table.giveBack(again);
    expect(h.calls).toHaveLength(1);
    h.advance(1000);
    void h.table.admit(scope, null, h.io);
    expect(h.calls.at(-1)?.req.returns).toEqual([{ grantId: expect.any(String), used: 0 }]);
  });

  it("sets the requests header from the limiter's count plus what the lease still holds", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    // The limiter had 100 - 10 left after granting 10.
    h.calls[0]?.answer(granted(10));
    expect(await first).toMatchObject({ ok: true, rate: { requests: { remaining: 99 } } });
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ rate: { requests: { remaining: 98 } } });
  });
});

describe("refusals", () => {
  it("remembers a limit refusal until its retry time, at most one lease time", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer({ ok: false, reason: "rpm", retryAfterMs: 30_000, rate: {} });
    expect(await first).toMatchObject({ ok: false, reason: "rpm" });
    for (let i = 0; i < 10; i++) expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: false });
    expect(h.calls).toHaveLength(1);
    h.advance(1000);
    void h.table.admit(scope, null, h.io);
    expect(h.calls).toHaveLength(2);
  });

  it("ends the lease at once when the key is disabled, and reports the status", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(null));
    await first;
    h.advance(600);
    // The background renewal learns the key is disabled: the lease is dropped, not used up.
    h.table.admit(scope, null, h.io);
    h.calls[1]?.answer({ ok: false, reason: "disabled", retryAfterMs: null, rate: {} });
    await flush();
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: false, reason: "disabled" });
    expect(h.table.status(scope, null, h.io)).toMatchObject({ ok: false, reason: "disabled" });
  });

  it("answers the status from the lease, or from the round trip that fetches one", async () => {
    const h = harness();
    const status = h.table.status(scope, null, h.io);
    expect(status instanceof Promise).toBe(true);
    h.calls[0]?.answer(granted(5));
    expect(await status).toBeNull();
    // The lease the status check fetched serves the call: no second round trip.
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: true });
    expect(h.table.status(scope, null, h.io)).toBeNull();
    expect(h.calls).toHaveLength(1);
  });

  it("refuses from its own count once its charges spend the tokens the lease's totals left", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(
      granted(null, {
        limits: { tpm: 1000 },
        totals: { tokens: 900, spentUsd: 0 },
        rate: { tokens: { limit: 1000, remaining: 100, resetMs: 60_000 } },
      }),
    );
    expect(await first).toMatchObject({ ok: true, rate: { tokens: { remaining: 100 } } });
    h.table.charge(scope, { tokens: 100, cacheReadTokens: 0 }, 0);
    const refused = h.table.admit(scope, null, h.io);
    // The limiter does not know of these tokens yet: one round trip confirms, then the isolate refuses.
    expect(refused instanceof Promise).toBe(true);
    h.calls[1]?.answer(
      granted(null, {
        limits: { tpm: 1000 },
        totals: { tokens: 900, spentUsd: 0 },
        rate: { tokens: { limit: 1000, remaining: 100, resetMs: 60_000 } },
      }),
    );
    expect(await refused).toMatchObject({ ok: false, reason: "tpm" });
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: false, reason: "tpm" });
    expect(h.calls).toHaveLength(2);
  });
});

describe("charges", () => {
  it("counts a charge on top of a lease's totals until it has landed before the lease was asked for", async () => {
    const h = harness();
    const tpm = (tokens: number) =>
      granted(null, {
        limits: { tpm: 1000 },
        totals: { tokens, spentUsd: 0 },
        rate: { tokens: { limit: 1000, remaining: 1000 - tokens, resetMs: 60_000 } },
      });
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(tpm(0));
    await first;
    const landed = h.table.charge(scope, { tokens: 300, cacheReadTokens: 0 }, 0);
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ rate: { tokens: { remaining: 700 } } });
    // A lease asked for while the charge is still on its way: counted on top of its totals.
    h.advance(1000);
    const second = h.table.admit(scope, null, h.io);
    h.calls[1]?.answer(tpm(0));
    expect(await second).toMatchObject({ rate: { tokens: { remaining: 700 } } });
    // It lands while that lease is in use: that lease's totals still lack it, so it still counts there.
    h.advance(100);
    landed();
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ rate: { tokens: { remaining: 700 } } });
    // A lease asked for after it landed has it in its totals: it is not counted twice.
    h.advance(1000);
    const third = h.table.admit(scope, null, h.io);
    h.calls[2]?.answer(tpm(300));
    expect(await third).toMatchObject({ rate: { tokens: { remaining: 700 } } });
  });
});

describe("admin changes and concurrency caps", () => {
  it("forgets a scope's lease: the next call asks again, and a renewal already out is not installed", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(10));
    await first;
    h.table.forget(scope);
    const next = h.table.admit(scope, null, h.io);
    expect(next instanceof Promise).toBe(true);
    h.table.forget(scope);
    h.calls[1]?.answer(granted(10));
    await flush();
    // The renewal sent before the change was dropped (and is given back whole); a third one admits.
    expect(h.calls).toHaveLength(3);
    expect(h.calls[2]?.req.returns).toEqual([{ grantId: expect.any(String), used: 0 }]);
    h.calls[2]?.answer(granted(10));
    expect(await next).toMatchObject({ ok: true });
  });

  it("admits each call at the limiter for a scope with a concurrency cap", async () => {
    const h = harness();
    const first = h.table.admit(scope, null, h.io);
    h.calls[0]?.answer(granted(null, { mode: "perCall" }));
    await flush();
    expect(h.admits).toHaveLength(1);
    h.admits[0]?.({ ok: true, leaseId: "slot1", admittedAt: 1, rate: {} });
    expect(await first).toMatchObject({ ok: true, kind: "perCall", leaseId: "slot1" });
    const second = h.table.admit(scope, null, h.io);
    await flush();
    expect(h.admits).toHaveLength(2);
    expect(h.calls).toHaveLength(1);
    h.admits[1]?.({ ok: false, reason: "concurrency", retryAfterMs: 1000, rate: {} });
    expect(await second).toMatchObject({ ok: false, reason: "concurrency" });
  });
});

describe("a refusal caused by the isolate's own lease", () => {
  it("is dropped when that lease ends with requests unused, so they can be used again", async () => {
    const h = harness();
    const status = h.table.status(scope, null, h.io);
    h.calls[0]?.answer(granted(1));
    await status;
    const ticket = h.table.admit(scope, null, h.io);
    if (ticket instanceof Promise || !ticket.ok || ticket.kind !== "lease")
      throw new Error("expected a lease");
    // Spent: a background renewal goes out and is refused, since this lease holds the last request.
    expect(h.calls).toHaveLength(2);
    h.advance(300);
    h.calls[1]?.answer({ ok: false, reason: "rpm", retryAfterMs: 60_000, rate: {} });
    await flush();
    h.table.giveBack(ticket);
    // After the lease ends (before the refusal would), its unused request goes back with the next
    // renewal instead of a 429.
    h.advance(700);
    const later = h.table.admit(scope, null, h.io);
    expect(later instanceof Promise).toBe(true);
    expect(h.calls[2]?.req.returns).toEqual([{ grantId: expect.any(String), used: 0 }]);
    h.calls[2]?.answer(granted(1));
    expect(await later).toMatchObject({ ok: true });
  });
});

describe("a spent lease", () => {
  it("is reported with the renewal it needs, and reported again when a call gives its request back", async () => {
    const h = harness();
    const status = h.table.status(scope, null, h.io);
    h.calls[0]?.answer(granted(1));
    await status;
    const ticket = h.table.admit(scope, null, h.io);
    if (ticket instanceof Promise || !ticket.ok || ticket.kind !== "lease")
      throw new Error("expected a lease");
    // Spent: the renewal that follows reports it at once, so the limiter can count it from now on.
    expect(h.calls[1]?.req.returns).toEqual([{ grantId: expect.any(String), used: 1 }]);
    h.calls[1]?.answer({ ok: false, reason: "rpm", retryAfterMs: 60_000, rate: {} });
    await flush();
    expect(h.table.admit(scope, null, h.io)).toMatchObject({ ok: false, reason: "rpm" });
    // The call never reached an upstream: its request goes back on the next renewal, which the next
    // call makes instead of taking the remembered refusal.
    h.table.giveBack(ticket);
    const next = h.table.admit(scope, null, h.io);
    expect(next instanceof Promise).toBe(true);
    expect(h.calls[2]?.req.returns).toEqual([{ grantId: expect.any(String), used: 0 }]);
    h.calls[2]?.answer(granted(1));
    expect(await next).toMatchObject({ ok: true });
  });
});

describe("a call that gives its request back while the renewal is out", () => {
  it("keeps the refusal that renewal brings from standing in the way of that request", async () => {
    const h = harness();
    const status = h.table.status(scope, null, h.io);
    h.calls[0]?.answer(granted(1));
    await status;
    const ticket = h.table.admit(scope, null, h.io);
    if (ticket instanceof Promise || !ticket.ok || ticket.kind !== "lease")
      throw new Error("expected a lease");
    // The give-back comes before the limiter's answer to the renewal the spent lease started.
    h.table.giveBack(ticket);
    h.calls[1]?.answer({ ok: false, reason: "rpm", retryAfterMs: 60_000, rate: {} });
    await flush();
    const next = h.table.admit(scope, null, h.io);
    expect(next instanceof Promise).toBe(true);
    expect(h.calls[2]?.req.returns).toEqual([{ grantId: expect.any(String), used: 0 }]);
    h.calls[2]?.answer(granted(1));
    expect(await next).toMatchObject({ ok: true });
  });
});

describe("the table's size", () => {
  /** Admits one call for each scope, each from a lease the limiter grants at once. */
  async function admitOnce(h: ReturnType<typeof harness>, scopes: Scope[]) {
    for (const s of scopes) {
      const ticket = h.table.admit(s, null, h.io);
      h.calls.at(-1)?.answer(granted(5));
      expect(await ticket).toMatchObject({ ok: true });
    }
  }
  const keys = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i): Scope => ({ kind: "key", name: `${prefix}${i}` }));

  it("drops scopes idle for two minutes once it has grown, and keeps those in use", async () => {
    const h = harness();
    await admitOnce(h, keys(998, "idle-"));
    // Idle as long as the others, but its callers wait for a round trip still on its way: kept.
    const busy: Scope = { kind: "key", name: "busy" };
    const waiting = h.table.admit(busy, null, h.io);
    const busyCall = h.calls.at(-1);
    h.advance(90_000);
    // Used a minute before the sweep: kept.
    await admitOnce(h, [scope]);
    expect(h.table.size).toBe(1_000);
    h.advance(60_000);
    // The 1,001st scope finds the table at its size: the 998 idle ones go.
    await admitOnce(h, [{ kind: "key", name: "new" }]);
    expect(h.table.size).toBe(3);
    // The busy scope's callers get the round trip they were waiting for, and nothing more is asked.
    const before = h.calls.length;
    // (A lease that outlives the wait: one that ended on its way would be asked for again.)
    busyCall?.answer(granted(5, { ttlMs: 300_000 }));
    expect(await waiting).toMatchObject({ ok: true });
    expect(h.calls.length).toBe(before);
  });

  it("gives a scope it dropped a fresh start: one round trip, then admission from the new lease", async () => {
    const h = harness();
    await admitOnce(h, keys(1_000, "idle-"));
    h.advance(2 * 60_000);
    await admitOnce(h, [{ kind: "key", name: "new" }]);
    expect(h.table.size).toBe(1);
    const before = h.calls.length;
    const again = h.table.admit({ kind: "key", name: "idle-0" }, null, h.io);
    expect(again instanceof Promise).toBe(true);
    expect(h.calls).toHaveLength(before + 1);
    // A fresh entry has nothing of the old lease to report.
    expect(h.calls.at(-1)?.req.returns).toEqual([]);
    h.calls.at(-1)?.answer(granted(5));
    expect(await again).toMatchObject({ ok: true });
    expect(h.table.admit({ kind: "key", name: "idle-0" }, null, h.io)).toMatchObject({
      ok: true,
      kind: "lease",
    });
  });

  it("never drops a scope used within two minutes, however many there are", async () => {
    const h = harness();
    await admitOnce(h, keys(1_000, "a-"));
    h.advance(2 * 60_000);
    // Sweeps at 1,000 (all idle), then holds 1,500 new scopes: the sweeps they meet drop none of them.
    await admitOnce(h, keys(1_500, "b-"));
    expect(h.table.size).toBe(1_500);
  });
});
