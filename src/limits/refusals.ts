import { GatewayError } from "../errors";
import { scopeLabel, type Scope } from "./client";
import type { AdmitResult, RateInfo } from "./limiter";

/** What a limiter's answers look like to a client: refusals as errors, counters as x-ratelimit-* headers. */

const KEY_REFUSALS = {
  deleted: "Invalid API key.",
  disabled: "This API key is disabled.",
  expired: "This API key has expired.",
} as const;

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

export function refusalError(scope: Scope, result: Extract<AdmitResult, { ok: false }>): GatewayError {
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
export function rateHeaders(rates: RateInfo[]): Record<string, string> {
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
