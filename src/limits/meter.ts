import { GatewayError } from "../errors";
import type { KeyRecord, Provider, Team } from "../config/schemas";
import type { Usage } from "../formats/usage";
import type { AdmitResult, RateInfo, ScopeConfig } from "./limiter";
import { keyConfigOf, limiterFor, limitsConfig, providerUsageShard, scopeLabel, type Scope } from "./client";
import { costUsd } from "./windows";

type Env = Pick<CloudflareBindings, "LIMITER">;

type Admission = { scope: Scope; result: Promise<AdmitResult> };
type Admitted = { scope: Scope; leaseId: string | null; admittedAt: number; rate: RateInfo };

const KEY_REFUSALS = {
  deleted: "Invalid API key.",
  disabled: "This API key is disabled.",
  expired: "This API key has expired.",
} as const;

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

function refusalError(scope: Scope, result: Extract<AdmitResult, { ok: false }>): GatewayError {
  const { reason, retryAfterMs, rate } = result;
  if (reason === "deleted" || reason === "disabled" || reason === "expired") {
    return new GatewayError("authentication", 401, KEY_REFUSALS[reason], {
      internal: `${scope.kind} ${scope.name} refused: ${reason}`,
    });
  }
  const who = scopeLabel(scope);
  const wait = retryAfterMs ?? 1000;
  let message: string;
  if (reason === "rpm")
    message = `Rate limit reached for ${who}: ${rate.requests?.limit} requests per minute.`;
  else if (reason === "tpm")
    message = `Token limit reached for ${who}: ${rate.tokens?.limit} tokens per minute.`;
  else if (reason === "concurrency") {
    message = `Too many requests in flight for ${who}: at most ${rate.concurrency?.limit} at a time.`;
  } else {
    const b = rate.budget;
    message =
      `The budget of $${b?.usd} per ${b?.period.split(":")[0]} for ${who} is spent ` +
      `($${b?.spentUsd.toFixed(4)} used); it resets at ${new Date(Date.now() + wait).toISOString()}.`;
  }
  return new GatewayError("rate_limit", 429, message, {
    // A provider's cap is the provider being busy: a route may fall back from it. A key's or team's is not.
    ...(scope.kind === "provider" && { retryClass: "429" as const, retryAfterMs: wait }),
    headers: {
      ...rateHeaders([rate]),
      "retry-after": seconds(wait),
      "retry-after-ms": String(Math.max(0, Math.round(wait))),
    },
    internal: `${scope.kind} ${scope.name} refused: ${reason}`,
  });
}

/** The most restrictive of several scopes' windows, as OpenAI's x-ratelimit-* headers. */
function rateHeaders(rates: RateInfo[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ["requests", "tokens"] as const) {
    const windows = rates.map((r) => r[kind]).filter((w) => w !== undefined);
    if (windows.length === 0) continue;
    const tightest = windows.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(tightest.remaining);
    headers[`x-ratelimit-reset-${kind}`] = `${(tightest.resetMs / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
  }
  return headers;
}

/** The provider phase of one attempt: which provider, its admission (if capped), whether it was sent. */
type Attempt = {
  providerName: string;
  provider: Provider;
  model: string;
  /** Where its usage goes: the provider's own limiter when capped, else a usage shard. */
  scope: Scope;
  admitted: Admitted | null;
  sent: boolean;
};

/**
 * One call's passage through the limiters: admission before the upstream call and recording after it.
 * The key's and team's admissions start as soon as the key is known and overlap the body's parsing; the
 * provider's (a global cap) starts per attempt, once the route has picked one, since a route may try
 * several. A call that never reaches an upstream gives its request back; one that does is recorded once,
 * charged to what served it, however it ends.
 */
export class Meter {
  private readonly pending: Admission[] = [];
  private readonly admitted: Admitted[] = [];
  private readonly scopes: Scope[] = [];
  private settled: Promise<void> | null = null;
  private refused: GatewayError | null = null;
  private attempt: Attempt | null = null;
  private claimed = false;

  constructor(
    private readonly env: Env,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /** Starts the key's admission (status and limits) and, if the team has limits, the team's. */
  startKey(key: KeyRecord, team: Team | null): void {
    this.start({ kind: "key", name: key.id }, keyConfigOf(key), true);
    if (key.team)
      this.start({ kind: "team", name: key.team }, limitsConfig(team?.limits), Boolean(team?.limits));
  }

  private start(scope: Scope, seed: ScopeConfig, admit: boolean): void {
    this.scopes.push(scope);
    if (admit) this.pending.push({ scope, result: limiterFor(this.env, scope).admit(seed) });
  }

  /**
   * Waits for the key's and team's admissions. If either refuses, the other gives its request back and
   * the refusal is thrown (a key's 401 before any 429); it stays thrown for every later call.
   */
  ready(): Promise<void> {
    this.settled ??= this.settle();
    return this.settled;
  }

  private async settle(): Promise<void> {
    const results = await Promise.all(
      this.pending.map(async (a) => ({ scope: a.scope, result: await a.result })),
    );
    for (const { scope, result } of results) {
      if (result.ok) {
        this.admitted.push({
          scope,
          leaseId: result.leaseId,
          admittedAt: result.admittedAt,
          rate: result.rate,
        });
      }
    }
    const refusals = results.flatMap(({ scope, result }) => (result.ok ? [] : [refusalError(scope, result)]));
    if (refusals.length === 0) return;
    this.refused = refusals.find((e) => e.status === 401) ?? refusals[0] ?? null;
    this.giveBack(this.admitted.splice(0));
    throw this.refused;
  }

  /**
   * Admits one attempt at a provider: its global cap, if it has one. A refusal is thrown as a 429 that a
   * route may fall back from; the key's and team's admissions stay as they are.
   */
  async admitProvider(providerName: string, provider: Provider, model: string): Promise<void> {
    await this.ready();
    const capped = Boolean(provider.limits);
    const scope: Scope = capped ? { kind: "provider", name: providerName } : providerUsageShard(providerName);
    this.attempt = { providerName, provider, model, scope, admitted: null, sent: false };
    if (!capped) return;
    const result = await limiterFor(this.env, scope).admit(limitsConfig(provider.limits));
    if (!result.ok) {
      this.attempt = null;
      throw refusalError(scope, result);
    }
    this.attempt.admitted = {
      scope,
      leaseId: result.leaseId,
      admittedAt: result.admittedAt,
      rate: result.rate,
    };
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
    const call = {
      provider: attempt.providerName,
      model: attempt.model,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      error: true,
    };
    this.waitUntil(limiterFor(this.env, attempt.scope).record(attempt.admitted?.leaseId ?? null, call));
  }

  /** x-ratelimit-* for the response, from what admission saw (the tightest scope wins). */
  headers(): Record<string, string> {
    const rates = this.admitted.map((a) => a.rate);
    if (this.attempt?.admitted) rates.push(this.attempt.admitted.rate);
    return rateHeaders(rates);
  }

  /**
   * Records the call in the key's, team's and serving provider's limiters once `outcome` settles (a
   * stream: when it ends or the client leaves), in waitUntil. Claims the call at once, so `close` leaves
   * it alone.
   */
  finishWhen(outcome: Promise<{ usage: Usage | null; error: boolean }>): void {
    const attempt = this.attempt;
    if (this.claimed || !attempt?.sent) return;
    this.claimed = true;
    const admitted = [...this.admitted.splice(0), ...(attempt.admitted ? [attempt.admitted] : [])];
    const leases = new Map(admitted.map((a) => [`${a.scope.kind}:${a.scope.name}`, a.leaseId]));
    const scopes = [...this.scopes, attempt.scope];
    this.waitUntil(
      outcome.then(({ usage, error }) => {
        const inputTokens = usage?.inputTokens ?? 0;
        const outputTokens = usage?.outputTokens ?? 0;
        const call = {
          provider: attempt.providerName,
          model: attempt.model,
          inputTokens,
          outputTokens,
          costUsd: costUsd(attempt.provider.pricing?.[attempt.model], inputTokens, outputTokens),
          error,
        };
        return Promise.all(
          scopes.map((scope) =>
            limiterFor(this.env, scope).record(leases.get(`${scope.kind}:${scope.name}`) ?? null, call),
          ),
        );
      }),
    );
  }

  /**
   * The request is over. A call whose last attempt went upstream but was never claimed failed before its
   * response (an upstream error): recorded as an error. One that never went upstream gives its request
   * and slots back.
   */
  close(): void {
    if (this.claimed) return;
    if (this.attempt?.sent) this.finishWhen(Promise.resolve({ usage: null, error: true }));
    else {
      const attempt = this.attempt;
      this.attempt = null;
      this.giveBack([...this.admitted.splice(0), ...(attempt?.admitted ? [attempt.admitted] : [])]);
    }
    this.claimed = true;
  }

  private giveBack(admitted: Admitted[]): void {
    if (admitted.length === 0) return;
    this.waitUntil(
      Promise.all(admitted.map((a) => limiterFor(this.env, a.scope).release(a.leaseId, true, a.admittedAt))),
    );
  }
}
