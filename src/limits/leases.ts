import type { Limits } from "../config/schemas";
import { limiterFor, type Scope } from "./client";
import { LEASE_MS, MAX_GRANT } from "./grants";
import type { Landing } from "./batches";
import type { AdmitResult, LeaseRequest, LeaseResult, RateInfo, ScopeConfig } from "./limiter";
import { tpmCount, type WindowTokens } from "./windows";

/**
 * The isolate's side of leases: per scope, the lease it admits from, so that in the steady state a call
 * is admitted without waiting on a Durable Object. A lease is renewed in the background before it runs
 * out (half its requests or half its time gone); only a call that finds no valid lease with a request
 * left (the first call, after a pause, or near the limit where leases hold one request) waits for the
 * round trip, and calls waiting at once share one. A refusal is remembered until its retry time, at most
 * one lease time, so a refused scope does not ask again on every call.
 *
 * Module state holds numbers only, never a Durable Object stub or a stream: workerd ties those to the
 * request that made them. Every round trip is registered with the `waitUntil` of the request that
 * started it, because a promise another request awaits is cancelled with the request that created it.
 */

export type Refusal = Extract<AdmitResult, { ok: false }>;

type Env = Pick<CloudflareBindings, "LIMITER">;

/** What a call brings for the round trips it may start: the bindings and its own `waitUntil`. */
export type LeaseIo = { env: Env; waitUntil: (p: Promise<unknown>) => void };

/** One lease as the isolate holds it. Counts are of requests admitted from it, net of those given back. */
type Grant = {
  id: string | null;
  mode: "lease" | "perCall";
  /** Local clock: when the renewal that brought it was sent, and when it stops being usable. */
  sentAt: number;
  expiresAt: number;
  count: number | null;
  left: number | null;
  used: number;
  /** Set once `used` has been sent back to the limiter: later changes to it no longer matter. */
  reported: boolean;
  limits: Limits | null;
  totals: { tokens: number; spentUsd: number };
  rate: RateInfo;
};

/**
 * Tokens and cost this isolate charged that a lease's totals may not include yet, with when they reached
 * the limiter. One per usage batch (they land together), not one per call, so the list stays a few
 * entries long however busy the scope is: every admission against tpm or a budget walks it.
 */
type Charge = WindowTokens & { usd: number; landing: Landing };

type Slot = {
  grant: Grant | null;
  /** Leases no longer admitted from whose use is still to be reported. */
  retired: Grant[];
  /** The last lease retired: the pace of the next one is measured from it when there is no current one. */
  previous: Grant | null;
  renewal: Promise<void> | null;
  refusal: { result: Refusal; until: number } | null;
  /** Calls waiting for a renewal right now: part of what the next lease should carry. */
  waiting: number;
  /** Bumped when the admin API changes the scope: a renewal sent before that is not installed. */
  generation: number;
  /**
   * This isolate's charges (tokens and cost of finished calls) that a lease's totals may not include:
   * Each one's landing says when its batch reached the limiter (null: not yet).
   */
  charges: Charge[];
  /** Local clock: the last call that looked the scope up. */
  touchedAt: number;
};

export type Ticket =
  | { ok: true; kind: "lease"; scope: Scope; grant: Grant; rate: RateInfo }
  | { ok: true; kind: "perCall"; scope: Scope; leaseId: string | null; admittedAt: number; rate: RateInfo }
  | Refusal;

export type Admitted = Extract<Ticket, { ok: true }>;

/** How the table reaches a limiter; tests replace it to count or delay round trips. */
export type LimiterRpc = {
  lease(env: Env, scope: Scope, req: LeaseRequest): Promise<LeaseResult>;
  admit(env: Env, scope: Scope, seed: ScopeConfig | null): Promise<AdmitResult>;
};

const durableObjects: LimiterRpc = {
  lease: (env, scope, req) => limiterFor(env, scope).lease(req),
  admit: (env, scope, seed) => limiterFor(env, scope).admit(seed),
};

const scopeKey = (scope: Scope) => `${scope.kind}:${scope.name}`;

/**
 * A scope no call has looked up for this long holds nothing that still counts: its leases ended, the
 * request window of what they leased has passed (reporting their use would change nothing), and its
 * usage batches landed long ago. Such entries are dropped once the table has grown (see sweep).
 */
const IDLE_MS = 2 * 60_000;
/** The table's size at which idle scopes are first looked for. */
const SWEEP_FROM = 1_000;

export class LeaseTable {
  private readonly slots = new Map<string, Slot>();
  private sweepAt = SWEEP_FROM;
  private readonly now: () => number;
  private readonly rpc: LimiterRpc;

  constructor(opts: { now?: () => number; rpc?: LimiterRpc } = {}) {
    this.now = opts.now ?? Date.now;
    this.rpc = opts.rpc ?? durableObjects;
  }

  /** How many scopes the table holds. */
  get size(): number {
    return this.slots.size;
  }

  private slot(scope: Scope): Slot {
    const key = scopeKey(scope);
    const now = this.now();
    let slot = this.slots.get(key);
    if (slot) {
      slot.touchedAt = now;
    } else {
      if (this.slots.size >= this.sweepAt) this.sweep(now);
      slot = {
        grant: null,
        retired: [],
        previous: null,
        renewal: null,
        refusal: null,
        waiting: 0,
        generation: 0,
        charges: [],
        touchedAt: now,
      };
      this.slots.set(key, slot);
    }
    return slot;
  }

  /**
   * An isolate may see many scopes in its life (a key per user, say): so that the table stays the size
   * of what is in use, scopes idle for IDLE_MS are dropped, unless a round trip for one is on its way or a
   * call waits for it. The next sweep waits until the table has doubled from what is left, so a sweep
   * costs a constant per scope added. A dropped scope seen again starts afresh, as on a new isolate.
   */
  private sweep(now: number): void {
    for (const [key, slot] of this.slots) {
      if (now - slot.touchedAt >= IDLE_MS && !slot.renewal && slot.waiting === 0) this.slots.delete(key);
    }
    this.sweepAt = Math.max(SWEEP_FROM, this.slots.size * 2);
  }

  /**
   * Admits one call for `scope`: synchronously from a valid lease, else after one (shared) round trip.
   * A scope that caps concurrency is admitted by its limiter, call by call.
   */
  admit(scope: Scope, seed: ScopeConfig | null, io: LeaseIo): Ticket | Promise<Ticket> {
    const slot = this.slot(scope);
    const now = this.now();
    const taken = this.take(scope, slot, now);
    if (taken) {
      if (taken.ok) this.renewAhead(scope, slot, seed, io, now);
      return taken;
    }
    return this.admitSlowly(scope, slot, seed, io);
  }

  /**
   * The scope's status without admitting a call: a refusal for a deleted, disabled or expired key, or
   * null. Answered from the lease when there is one; otherwise the round trip fetches the lease the
   * call's admission will take from.
   */
  status(scope: Scope, seed: ScopeConfig | null, io: LeaseIo): Refusal | null | Promise<Refusal | null> {
    const slot = this.slot(scope);
    const known = this.knownStatus(slot, this.now());
    if (known !== undefined) return known;
    return this.renew(scope, slot, seed, io).then(() => this.knownStatus(slot, this.now()) ?? null);
  }

  private knownStatus(slot: Slot, now: number): Refusal | null | undefined {
    const refusal = slot.refusal;
    if (refusal && now < refusal.until && isStatus(refusal.result)) return refusal.result;
    if (this.current(slot, now)) return null;
    return undefined;
  }

  /** The lease still good at `now`; an expired one is retired on the way. */
  private current(slot: Slot, now: number): Grant | null {
    const grant = slot.grant;
    if (grant && now >= grant.expiresAt) {
      this.retire(slot);
      // A request limit refused while this lease held requests it did not use: those go back with the
      // next renewal, so the refusal no longer holds.
      if (slot.refusal?.result.reason === "rpm" && grant.count !== null && grant.used < grant.count) {
        slot.refusal = null;
      }
    }
    return slot.grant;
  }

  private async admitSlowly(scope: Scope, slot: Slot, seed: ScopeConfig | null, io: LeaseIo) {
    slot.waiting += 1;
    try {
      // Each pass either admits, refuses, or makes one round trip that brings a fresh lease or a refusal,
      // so calls queued behind an exhausted lease make progress however many there are.
      for (;;) {
        if (this.current(slot, this.now())?.mode === "perCall") {
          return this.admitPerCall(scope, seed, io);
        }
        await this.renew(scope, slot, seed, io);
        const now = this.now();
        const taken = this.take(scope, slot, now);
        if (taken) return taken;
        const fresh = slot.grant;
        if (fresh?.mode === "lease" && now < fresh.expiresAt && (fresh.left === null || fresh.left > 0)) {
          // Requests are left but this isolate's own charges since the totals spent the tokens or budget.
          return this.refuseLocally(slot, fresh, now);
        }
      }
    } finally {
      slot.waiting -= 1;
    }
  }

  private async admitPerCall(scope: Scope, seed: ScopeConfig | null, io: LeaseIo): Promise<Ticket> {
    const result = await this.rpc.admit(io.env, scope, seed);
    if (!result.ok) return result;
    return {
      ok: true,
      kind: "perCall",
      scope,
      leaseId: result.leaseId,
      admittedAt: result.admittedAt,
      rate: result.rate,
    };
  }

  /** One request from the current lease, or the remembered refusal, or null (a round trip is needed). */
  private take(scope: Scope, slot: Slot, now: number): Ticket | null {
    const valid = this.current(slot, now);
    if (
      valid?.mode === "lease" &&
      (valid.left === null || valid.left > 0) &&
      this.withinTotals(slot, valid, now)
    ) {
      if (valid.left !== null) valid.left -= 1;
      valid.used += 1;
      return { ok: true, kind: "lease", scope, grant: valid, rate: this.rateOf(slot, valid, now) };
    }
    const refusal = slot.refusal;
    if (refusal && now < refusal.until) return refusal.result;
    return null;
  }

  /** The lease's totals plus what this isolate charged that the totals may not include yet. */
  private charged(slot: Slot, grant: Grant, now: number): { tokens: number; usd: number } {
    // A lease still in use was asked for within the last lease time: what landed before then is in the
    // totals of every lease that can still be used.
    const stale = (c: Charge) => c.landing.landedAt !== null && c.landing.landedAt < now - LEASE_MS;
    if (slot.charges.some(stale)) slot.charges = slot.charges.filter((c) => !stale(c));
    let tokens = grant.totals.tokens;
    let usd = grant.totals.spentUsd;
    for (const c of slot.charges) {
      // Landed before the lease was asked for: already in its totals, not counted twice. (One that lands
      // while the renewal is on its way may be counted twice for that lease: the safe side.)
      const landedAt = c.landing.landedAt;
      if (landedAt !== null && landedAt < grant.sentAt) continue;
      tokens += tpmCount(c, grant.limits);
      usd += c.usd;
    }
    return { tokens, usd };
  }

  private withinTotals(slot: Slot, grant: Grant, now: number): boolean {
    const limits = grant.limits;
    if (!limits || (limits.tpm === undefined && !limits.budget)) return true;
    const { tokens, usd } = this.charged(slot, grant, now);
    if (limits.tpm !== undefined && tokens >= limits.tpm) return false;
    if (limits.budget && usd >= limits.budget.usd) return false;
    return true;
  }

  private refuseLocally(slot: Slot, grant: Grant, now: number): Refusal {
    const rate = this.rateOf(slot, grant, now);
    const tokensOut = grant.limits?.tpm !== undefined && (rate.tokens?.remaining ?? 1) <= 0;
    const result: Refusal = tokensOut
      ? { ok: false, reason: "tpm", retryAfterMs: grant.expiresAt - now, rate }
      : { ok: false, reason: "budget", retryAfterMs: (rate.budget?.resetsAt ?? now + LEASE_MS) - now, rate };
    slot.refusal = { result, until: grant.expiresAt };
    return result;
  }

  /**
   * The x-ratelimit view of a lease: the limiter's counters when it was granted, plus the requests this
   * isolate still holds unused, minus the tokens and cost it charged since.
   */
  private rateOf(slot: Slot, grant: Grant, now: number): RateInfo {
    const rate: RateInfo = { ...grant.rate };
    if (rate.requests && grant.left !== null) {
      rate.requests = {
        ...rate.requests,
        remaining: Math.min(rate.requests.limit, rate.requests.remaining + grant.left),
      };
    }
    if (rate.tokens || rate.budget) {
      const { tokens, usd } = this.charged(slot, grant, now);
      if (rate.tokens) rate.tokens = { ...rate.tokens, remaining: Math.max(0, rate.tokens.limit - tokens) };
      if (rate.budget) rate.budget = { ...rate.budget, spentUsd: usd };
    }
    return rate;
  }

  /** Starts a background renewal when the lease is half spent or half over. */
  private renewAhead(scope: Scope, slot: Slot, seed: ScopeConfig | null, io: LeaseIo, now: number): void {
    const grant = slot.grant;
    if (!grant || slot.renewal) return;
    const halfTime = now - grant.sentAt >= (grant.expiresAt - grant.sentAt) / 2;
    const halfSpent = grant.count !== null && grant.left !== null && grant.left <= grant.count / 2;
    if (!halfTime && !halfSpent) return;
    this.renew(scope, slot, seed, io).catch((e: unknown) => {
      console.error(
        JSON.stringify({ msg: "lease renewal failed", scope: scopeKey(scope), error: String(e) }),
      );
    });
  }

  /** How many requests to ask for: this lease's pace over a whole lease, doubled, plus calls waiting. */
  private want(slot: Slot, now: number): number {
    const grant = slot.grant ?? slot.previous;
    let pace = 0;
    if (grant?.mode === "lease") {
      const elapsed = Math.max(50, now - grant.sentAt);
      pace = Math.ceil((grant.used / elapsed) * LEASE_MS * 2);
    }
    return Math.min(MAX_GRANT, Math.max(1, pace + slot.waiting));
  }

  /** The one round trip in flight for a scope; callers arriving meanwhile share it. */
  private renew(scope: Scope, slot: Slot, seed: ScopeConfig | null, io: LeaseIo): Promise<void> {
    if (slot.renewal) return slot.renewal;
    const sentAt = this.now();
    // A spent lease takes no more calls: report it now rather than with the renewal after.
    const grant = this.current(slot, sentAt);
    if (grant?.mode === "lease" && grant.left === 0) this.retire(slot);
    const returns = slot.retired.map((g) => {
      g.reported = true;
      return { grantId: g.id ?? "", used: g.used };
    });
    slot.retired = [];
    const generation = slot.generation;
    const renewal = this.rpc
      .lease(io.env, scope, { returns, want: this.want(slot, sentAt), seed })
      .then((result) => this.install(slot, result, sentAt, generation))
      .finally(() => {
        slot.renewal = null;
      });
    slot.renewal = renewal;
    io.waitUntil(renewal.catch(() => {}));
    return renewal;
  }

  private install(slot: Slot, result: LeaseResult, sentAt: number, generation: number): void {
    const now = this.now();
    if (generation !== slot.generation) {
      // Granted under the old settings: give all of it back with the next renewal.
      if (result.ok && result.grantId && result.count !== null) {
        slot.retired.push({ ...this.grantOf(result, sentAt), used: 0 });
      }
      return;
    }
    if (!result.ok) {
      // Requests already leased stay usable; a status or a spent total ends the lease at once.
      if (result.reason !== "rpm") this.retire(slot);
      // Requests this isolate is about to give back (a call that never went upstream) may be what the
      // next call gets: a request-limit refusal is not remembered while there are any.
      if (result.reason === "rpm" && slot.retired.some((g) => g.count !== null && g.used < g.count)) {
        return;
      }
      const wait = Math.min(result.retryAfterMs ?? LEASE_MS, LEASE_MS);
      slot.refusal = { result, until: now + Math.max(0, wait) };
      return;
    }
    this.retire(slot);
    slot.refusal = null;
    slot.grant = this.grantOf(result, sentAt);
  }

  private grantOf(result: Extract<LeaseResult, { ok: true }>, sentAt: number): Grant {
    return {
      id: result.grantId,
      mode: result.mode,
      sentAt,
      expiresAt: sentAt + result.ttlMs,
      count: result.count,
      left: result.count,
      used: 0,
      reported: false,
      limits: result.limits,
      totals: result.totals,
      rate: result.rate,
    };
  }

  /** The current lease is no longer admitted from; what it used is reported with the next renewal. */
  private retire(slot: Slot): void {
    const grant = slot.grant;
    slot.grant = null;
    if (grant) slot.previous = grant;
    if (grant?.id && grant.count !== null) slot.retired.push(grant);
  }

  /** A call admitted from a lease never reached an upstream: its request is not used after all. */
  giveBack(ticket: Extract<Ticket, { kind: "lease" }>): void {
    const grant = ticket.grant;
    const slot = this.slots.get(scopeKey(ticket.scope));
    if (grant.used <= 0 || !slot) return;
    grant.used -= 1;
    if (slot.grant === grant) {
      if (grant.left !== null) grant.left += 1;
      return;
    }
    if (grant.id === null || grant.count === null) return;
    // The lease is no longer admitted from: the request goes back with the next renewal (reported
    // again, with the lower count, if its use was already sent), and a request-limit refusal that
    // came while it was counted no longer holds.
    if (grant.reported) {
      grant.reported = false;
      slot.retired.push(grant);
    }
    if (slot.refusal?.result.reason === "rpm") slot.refusal = null;
  }

  /**
   * A finished call's tokens and cost, counted against this isolate's leases until the limiter has them
   * (and for one lease time after, until every lease in use was asked for since). When they land is
   * `landing`, their usage batch's, set by the batch when it lands (or is given up); without one, the
   * caller calls the returned function then.
   */
  charge(scope: Scope, tokens: WindowTokens, usd: number, landing?: Landing): () => void {
    if (tokens.tokens <= 0 && tokens.cacheReadTokens <= 0 && usd <= 0) return () => {};
    const charges = this.slot(scope).charges;
    // The calls of one batch land together, so they share one entry.
    const same = landing ? charges.find((c) => c.landing === landing) : undefined;
    if (same) {
      same.tokens += tokens.tokens;
      same.cacheReadTokens += tokens.cacheReadTokens;
      same.usd += usd;
      return () => {};
    }
    const own = landing ?? { landedAt: null };
    charges.push({ tokens: tokens.tokens, cacheReadTokens: tokens.cacheReadTokens, usd, landing: own });
    return () => {
      own.landedAt ??= this.now();
    };
  }

  /**
   * The admin API changed the scope: drop what this isolate holds for it, so the change applies here at
   * once (elsewhere within one lease time). Unused requests of the dropped lease go back on the next
   * renewal.
   */
  forget(scope: Scope): void {
    const slot = this.slots.get(scopeKey(scope));
    if (!slot) return;
    this.retire(slot);
    slot.refusal = null;
    slot.generation += 1;
  }
}

function isStatus(r: Refusal): boolean {
  return r.reason === "deleted" || r.reason === "disabled" || r.reason === "expired";
}

/** The isolate's table, shared by every request it serves. */
export const leases = new LeaseTable();
