import type { Route } from "../config/schemas";

/**
 * The pure decisions of a route: which destination takes a call (weighted, from a random number the
 * caller supplies, so tests can seed it), in which order the rest are tried, and how long to wait
 * between retries.
 */

export type Destination = { provider: string; model: string };

/** Picks one item with probability weight / total weight (weight defaults to 1). `rand` is in [0, 1). */
export function pickWeighted<T extends { weight?: number }>(
  items: readonly T[],
  rand: number,
): T | undefined {
  const total = items.reduce((sum, i) => sum + (i.weight ?? 1), 0);
  let point = rand * total;
  for (const item of items) {
    point -= item.weight ?? 1;
    if (point < 0) return item;
  }
  return items[items.length - 1];
}

/**
 * The attempts for one call: one destination picked by weight among those not cooling down, then the
 * fallbacks in order, skipping those cooling down. Cooling entries are skipped only while something else
 * is left: a route whose every destination is cooling still tries them rather than fail outright.
 */
export function attemptOrder(
  route: Route,
  rand: number,
  cooling: (d: Destination) => boolean,
): Destination[] {
  const fallbacks = route.fallbacks ?? [];
  const warm = route.destinations.filter((d) => !cooling(d));
  const warmFallbacks = fallbacks.filter((d) => !cooling(d));
  const order: Array<Destination | undefined> =
    warm.length + warmFallbacks.length === 0
      ? [pickWeighted(route.destinations, rand), ...fallbacks]
      : [...(warm.length > 0 ? [pickWeighted(warm, rand)] : []), ...warmFallbacks];
  const seen = new Set<string>();
  return order
    .filter((d): d is Destination => d !== undefined)
    .map((d) => ({ provider: d.provider, model: d.model }))
    .filter((d) => {
      const id = `${d.provider}/${d.model}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
}

export const DEFAULT_BACKOFF = { baseMs: 200, maxMs: 5000 };

/**
 * Wait before retry number `retry` (0-based): exponential from `baseMs`, capped at `maxMs`, with jitter
 * (between half and all of it, so synchronised clients spread out), and never shorter than what the
 * upstream asked for in retry-after.
 */
export function backoffMs(
  retry: number,
  retryAfterMs: number | undefined,
  cfg: { baseMs: number; maxMs: number },
  rand: number,
): number {
  const exponential = Math.min(cfg.maxMs, cfg.baseMs * 2 ** retry);
  const jittered = Math.round(exponential * (0.5 + rand / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}
