import type { Limits } from "../config/schemas";

/**
 * Pure arithmetic of the limiter: sliding one-minute windows and calendar budget periods. Kept apart
 * from the Durable Object so it can be tested exhaustively in Node.
 */

export const WINDOW_MS = 60_000;

/**
 * One entry of a sliding window: when, and how much (1 for a request, n for tokens). A lease of requests
 * is one entry stamped at the lease's expiry (the latest moment one of its requests can be used), with
 * `grant` naming it so its unused requests can be given back.
 */
export type WindowEntry = { ts: number; amount: number; grant?: string };

/** Adds an entry keeping the array oldest first (a lease's entry is stamped in the future). */
export function insertEntry(entries: WindowEntry[], entry: WindowEntry): void {
  let i = entries.length;
  while (i > 0 && (entries[i - 1]?.ts ?? -Infinity) > entry.ts) i--;
  entries.splice(i, 0, entry);
}

/** Drops entries that left the window; the array is oldest first, so this is a prefix cut. */
export function prune(entries: WindowEntry[], now: number): void {
  let drop = 0;
  while (drop < entries.length && (entries[drop]?.ts ?? Infinity) <= now - WINDOW_MS) drop++;
  if (drop > 0) entries.splice(0, drop);
}

export function windowSum(entries: readonly WindowEntry[]): number {
  let sum = 0;
  for (const e of entries) sum += e.amount;
  return sum;
}

/**
 * How long until the window's sum drops below `limit` (0 if it already is): the time at which enough of
 * the oldest entries have left it.
 */
export function msUntilBelow(entries: readonly WindowEntry[], limit: number, now: number): number {
  let sum = windowSum(entries);
  if (sum < limit) return 0;
  for (const e of entries) {
    sum -= e.amount;
    if (sum < limit) return Math.max(0, e.ts + WINDOW_MS - now);
  }
  return 0;
}

export type Period = "day" | "week" | "month";

/** The calendar period (UTC) containing `now`: its storage key and when it ends. Weeks start on Monday. */
export function periodOf(period: Period, now: number): { key: string; endsAt: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  if (period === "day") {
    return { key: `day:${iso(Date.UTC(y, m, day))}`, endsAt: Date.UTC(y, m, day + 1) };
  }
  if (period === "week") {
    const sinceMonday = (d.getUTCDay() + 6) % 7;
    const monday = Date.UTC(y, m, day - sinceMonday);
    return { key: `week:${iso(monday)}`, endsAt: monday + 7 * 86_400_000 };
  }
  return { key: `month:${iso(Date.UTC(y, m, 1)).slice(0, 7)}`, endsAt: Date.UTC(y, m + 1, 1) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The UTC day of `now` as YYYY-MM-DD, the grain of usage records. */
export function dayOf(now: number): string {
  return iso(now);
}

/**
 * A call's tokens for the token window: all of them but the cache reads, which are kept apart because
 * whether they count toward `tpm` is the scope's choice (`tpmCountsCacheReads`).
 */
export type WindowTokens = { tokens: number; cacheReadTokens: number };

export function windowTokens(u: {
  inputTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
}): WindowTokens {
  return { tokens: u.inputTokens - u.cacheReadTokens + u.outputTokens, cacheReadTokens: u.cacheReadTokens };
}

/**
 * What `tpm` counts of them. Cache reads are left out unless the limits say otherwise, as Anthropic's
 * input-token rate limits leave them out for current models: Claude Code's traffic is mostly cache reads,
 * and counting them would make a team's `tpm` run out many times sooner than the provider's own limit.
 */
export function tpmCount(
  t: WindowTokens,
  limits: Pick<Limits, "tpmCountsCacheReads"> | null | undefined,
): number {
  return t.tokens + (limits?.tpmCountsCacheReads === true ? t.cacheReadTokens : 0);
}
