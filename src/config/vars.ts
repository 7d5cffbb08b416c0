/**
 * A var holding a duration in milliseconds (wrangler vars are strings): the default when it is unset,
 * blank, negative or not a number, so a typo in wrangler.toml falls back instead of meaning 0 or NaN.
 */
export function durationMs(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : fallback;
}
