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

/**
 * One call's passage through the limiters: admission before the upstream call (key, team and provider,
 * each in its own Durable Object, all started as early as their scope is known), and recording after it.
 * A call that never reaches the upstream gives its request back; one that does is recorded exactly once,
 * however it ends.
 */
export class Meter {
  private readonly admissions: Admission[] = [];
  private readonly admitted: Admitted[] = [];
  private readonly scopes: Scope[] = [];
  private settled: Promise<void> | null = null;
  private refused: GatewayError | null = null;
  private upstream: { providerName: string; provider: Provider; model: string } | null = null;
  private sentUpstream = false;
  private claimed = false;

  constructor(
    private readonly env: Env,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  /** Starts the key's admission (status and limits) and, if the team has limits, the team's. */
  startKey(key: KeyRecord, team: Team | null): void {
    this.add({ kind: "key", name: key.id }, keyConfigOf(key), true);
    if (key.team)
      this.add({ kind: "team", name: key.team }, limitsConfig(team?.limits), Boolean(team?.limits));
  }

  /** Starts the provider's admission if it has a global cap; its usage is recorded either way. */
  startProvider(providerName: string, provider: Provider, model: string): void {
    this.upstream = { providerName, provider, model };
    this.add(
      { kind: "provider", name: providerName },
      limitsConfig(provider.limits),
      Boolean(provider.limits),
    );
  }

  private add(scope: Scope, seed: ScopeConfig, admit: boolean): void {
    this.scopes.push(scope.kind === "provider" && !admit ? providerUsageShard(scope.name) : scope);
    if (!admit) return;
    this.settled = null;
    this.admissions.push({ scope, result: limiterFor(this.env, scope).admit(seed) });
  }

  /**
   * Waits for every admission started so far. If any scope refuses, the others give their request back
   * and the refusal is thrown (a key's 401 before any 429).
   */
  ready(): Promise<void> {
    this.settled ??= this.settle();
    return this.settled;
  }

  private async settle(): Promise<void> {
    const pending = this.admissions.splice(0);
    const results = await Promise.all(pending.map(async (a) => ({ scope: a.scope, result: await a.result })));
    for (const { scope, result } of results) {
      if (result.ok)
        this.admitted.push({
          scope,
          leaseId: result.leaseId,
          admittedAt: result.admittedAt,
          rate: result.rate,
        });
    }
    const refusals = results.flatMap(({ scope, result }) => (result.ok ? [] : [refusalError(scope, result)]));
    if (refusals.length === 0 && !this.refused) return;
    this.refused ??= refusals.find((e) => e.status === 401) ?? refusals[0] ?? null;
    this.giveBack();
    throw this.refused;
  }

  /** x-ratelimit-* for the response, from what admission saw. */
  headers(): Record<string, string> {
    return rateHeaders(this.admitted.map((a) => a.rate));
  }

  /** Called right before the upstream fetch: from now on the call is recorded, not given back. */
  sending(): void {
    this.sentUpstream = true;
  }

  /**
   * Records the call in every scope once `outcome` settles (a stream: when it ends or the client leaves),
   * in waitUntil. Claims the call at once, so `close` leaves it alone.
   */
  finishWhen(outcome: Promise<{ usage: Usage | null; error: boolean }>): void {
    if (this.claimed || !this.upstream || !this.sentUpstream) return;
    this.claimed = true;
    const { providerName, provider, model } = this.upstream;
    const admitted = this.admitted.splice(0);
    const leases = new Map(admitted.map((a) => [`${a.scope.kind}:${a.scope.name}`, a.leaseId]));
    const scopes = [...this.scopes];
    this.waitUntil(
      outcome.then(({ usage, error }) => {
        const inputTokens = usage?.inputTokens ?? 0;
        const outputTokens = usage?.outputTokens ?? 0;
        const call = {
          provider: providerName,
          model,
          inputTokens,
          outputTokens,
          costUsd: costUsd(provider.pricing?.[model], inputTokens, outputTokens),
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
   * The request is over. A call that went upstream but was never claimed failed before its response (an
   * upstream error): recorded as an error. One that never went upstream gives its request and slot back.
   */
  close(): void {
    if (this.claimed) return;
    if (this.sentUpstream && this.upstream) this.finishWhen(Promise.resolve({ usage: null, error: true }));
    else this.giveBack();
    this.claimed = true;
  }

  private giveBack(): void {
    const admitted = this.admitted.splice(0);
    if (admitted.length === 0) return;
    this.waitUntil(
      Promise.all(admitted.map((a) => limiterFor(this.env, a.scope).release(a.leaseId, true, a.admittedAt))),
    );
  }
}
