/**
 * The counters of a usage row (per day, provider and model) and of a total: added up field by field in the
 * isolate's batches, in the limiter, and across rows for `GET /admin/usage`.
 */
export const USAGE_COUNTERS = [
  "requests",
  "inputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "outputTokens",
  "reasoningTokens",
  "costUsd",
  "errors",
] as const;

export type UsageCounts = Record<(typeof USAGE_COUNTERS)[number], number>;

export function noUsage(): UsageCounts {
  return {
    requests: 0,
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    errors: 0,
  };
}

/** Adds `more` into `into`. */
export function addUsage(into: UsageCounts, more: UsageCounts): void {
  for (const counter of USAGE_COUNTERS) into[counter] += more[counter];
}
