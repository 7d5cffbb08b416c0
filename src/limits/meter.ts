import type { GatewayError } from "../errors";
import type { KeyRecord, Provider, Team } from "../config/schemas";
import { NO_TOKENS, type Usage } from "../formats/usage";
import { batches, flushMsOf } from "./batches";
import { keyConfigOf, keyScope, limiterFor, limitsConfig, type Scope } from "./client";
import { leases, type Admitted, type Refusal, type Ticket } from "./leases";
import type { CallUsage, ScopeConfig } from "./limiter";
import { costUsd } from "./pricing";
import { rateHeaders, refusalError } from "./refusals";
import { windowTokens } from "./windows";

type Env = Pick<CloudflareBindings, "LIMITER"> & { USAGE_FLUSH_MS?: string };

/** How a finished call ended, as far as accounting cares: its tokens, and whether it counts as an error. */
export type CallOutcome = { usage: Usage | null; error: boolean };

/** The provider phase of one attempt: which provider, its admission (if capped), whether it was sent. */
type Attempt = {
  providerName: string;
  provider: Provider;
  model: string;
  /** Where its usage goes: the provider's own limiter. */
  scope: Scope;
  admitted: Admitted | null;
  sent: boolean;
};

/**
 * One call's passage through the limiters, from admission to the record of its usage. Admission comes
 * from the isolate's leases (src/limits/leases.ts): in the steady state it waits on nothing. A call
 * that never reaches an upstream gives its requests back; one that does is added once to the usage
 * batches (src/limits/batches.ts) of its key, team and serving provider, however it ends, and is charged
 * to what served it.
 *
 * The auth middleware creates it and starts the key's status check; `dispatch` owns the rest: `admit`,
 * `admitAttempt` per upstream attempt, and `settle` in its one `finally`.
 */
export class Meter {
  private readonly admitted: Admitted[] = [];
  private status: Refusal | null | Promise<Refusal | null> = null;
  private attempt: Attempt | null = null;
  private settled = false;

  constructor(
    private readonly env: Env,
    private readonly waitUntil: (p: Promise<unknown>) => void,
    private readonly key: KeyRecord,
    private readonly team: Team | null,
  ) {}

  private get io() {
    return { env: this.env, waitUntil: this.waitUntil };
  }

  /**
   * Starts finding out whether the key may be used at all (deleted, disabled, expired): from its lease
   * when the isolate holds one, else with the round trip that fetches the lease the call will use.
   */
  checkKey(): void {
    this.status = leases.status(keyScope(this.key.id), keyConfigOf(this.key), this.io);
  }

  /** The key's refusal (401), if it has one: it replaces whatever the route answered. */
  async keyRefusal(): Promise<GatewayError | null> {
    const refused = await this.status;
    return refused ? refusalError(keyScope(this.key.id), refused) : null;
  }

  /**
   * Admits the call for its key and, if the team has limits, its team. A refusal is thrown (a key's 401
   * before any 429), and the scope that did admit gives its request back.
   */
  async admit(): Promise<void> {
    const pending: { scope: Scope; ticket: Ticket | Promise<Ticket> }[] = [];
    const admitOne = (scope: Scope, seed: ScopeConfig) =>
      pending.push({ scope, ticket: leases.admit(scope, seed, this.io) });
    admitOne(keyScope(this.key.id), keyConfigOf(this.key));
    if (this.key.team && this.team?.limits) {
      admitOne({ kind: "team", name: this.key.team }, limitsConfig(this.team.limits));
    }
    const results = await Promise.all(pending.map(async (p) => ({ scope: p.scope, ticket: await p.ticket })));
    const refusals: GatewayError[] = [];
    for (const { scope, ticket } of results) {
      if (ticket.ok) this.admitted.push(ticket);
      else refusals.push(refusalError(scope, ticket));
    }
    if (refusals.length === 0) return;
    this.giveBack(this.admitted.splice(0));
    throw refusals.find((e) => e.status === 401) ?? refusals[0];
  }

  /**
   * Whether a call would be admitted right now, without counting one: admits, then gives the requests back
   * at once. For what opens a channel for calls rather than being one (a WebSocket upgrade); a refusal is
   * thrown as from `admit`.
   */
  async probe(): Promise<void> {
    await this.admit();
    this.giveBack(this.admitted.splice(0));
  }

  /**
   * Admits one attempt at a provider: its global cap, if it has one. A refusal is thrown as a 429 that a
   * route may fall back from; the key's and team's admissions stay as they are.
   */
  async admitAttempt(providerName: string, provider: Provider, model: string): Promise<void> {
    const scope: Scope = { kind: "provider", name: providerName };
    this.attempt = { providerName, provider, model, scope, admitted: null, sent: false };
    if (!provider.limits) return;
    const ticket = await leases.admit(scope, limitsConfig(provider.limits), this.io);
    if (!ticket.ok) {
      this.attempt = null;
      throw refusalError(scope, ticket);
    }
    this.attempt.admitted = ticket;
  }

  /** Called right before the upstream fetch: from now on the attempt is recorded, not given back. */
  sending(): void {
    if (this.attempt) this.attempt.sent = true;
  }

  /**
   * The current attempt failed before its response (a route will try another): the provider gets an
   * error call on its record (it did receive the request) or, if it never did, its request back.
   */
  attemptFailed(): void {
    const attempt = this.attempt;
    this.attempt = null;
    if (!attempt) return;
    if (!attempt.sent) {
      if (attempt.admitted) this.giveBack([attempt.admitted]);
      return;
    }
    this.waitUntil(this.add(attempt.scope, callUsage(attempt, null, true), attempt.admitted));
  }

  /** x-ratelimit-* for the response, from what admission saw (the tightest scope wins). */
  headers(): Record<string, string> {
    const rates = this.admitted.map((a) => a.rate);
    if (this.attempt?.admitted) rates.push(this.attempt.admitted.rate);
    return rateHeaders(rates);
  }

  /**
   * The end of the call's accounting, once. If its last attempt went upstream, the call is added to
   * the batches of its key, team and serving provider when `outcome` settles (a stream: when it ends or
   * the client leaves; no outcome: the upstream failed, an error call). Otherwise every admitted scope
   * gets its request back. Resolves when the usage is durable.
   */
  async settle(outcome: Promise<CallOutcome> | null): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const attempt = this.attempt;
    this.attempt = null;
    const admitted = this.admitted.splice(0);
    if (!attempt?.sent) {
      this.giveBack([...admitted, ...(attempt?.admitted ? [attempt.admitted] : [])]);
      return;
    }
    const { usage, error } = outcome ? await outcome : { usage: null, error: true };
    const call = callUsage(attempt, usage, error);
    const ticketOf = (scope: Scope) =>
      admitted.find((a) => a.scope.kind === scope.kind && a.scope.name === scope.name) ?? null;
    const scopes: Scope[] = [keyScope(this.key.id)];
    if (this.key.team) scopes.push({ kind: "team", name: this.key.team });
    await Promise.all([
      ...scopes.map((scope) => this.add(scope, call, ticketOf(scope))),
      this.add(attempt.scope, call, attempt.admitted),
    ]);
  }

  private add(scope: Scope, call: CallUsage, ticket: Admitted | null): Promise<void> {
    const release = ticket?.kind === "perCall" ? ticket.leaseId : null;
    const added = batches.add(scope, call, release, { env: this.env, flushMs: flushMsOf(this.env) });
    leases.charge(scope, windowTokens(call), call.costUsd, added.landing);
    return added.hold ?? Promise.resolve();
  }

  private giveBack(admitted: Admitted[]): void {
    for (const a of admitted) {
      if (a.kind === "lease") leases.giveBack(a);
      else this.waitUntil(limiterFor(this.env, a.scope).release(a.leaseId, true, a.admittedAt));
    }
  }
}

/** A finished call as usage counts it: its tokens, cost at its model's price, and whether it failed. */
function callUsage(attempt: Attempt, usage: Usage | null, error: boolean): CallUsage {
  const u = usage ?? NO_TOKENS;
  return {
    provider: attempt.providerName,
    model: attempt.model,
    inputTokens: u.inputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWriteTokens,
    outputTokens: u.outputTokens,
    reasoningTokens: u.reasoningTokens,
    costUsd: costUsd(attempt.provider.pricing?.[attempt.model], usage),
    error,
  };
}
