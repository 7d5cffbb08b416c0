/**
 * How many requests a lease may carry. A lease is a promise that its holder may admit that many requests
 * at any moment until it expires, so the limiter counts them as used from the grant until the expiry
 * plus one window; that keeps `rpm` exact however the holder spends them.
 */

/** How long a lease is good for. It bounds how late an isolate sees a key disabled or deleted. */
export const LEASE_MS = 1000;

/**
 * A lease takes at most this share of what the window has left, so that several isolates admitting for
 * the same scope all find some; near the limit every lease is a single request.
 */
const SHARE = 4;

/** A bound on one lease, whatever rate its holder asks for. */
export const MAX_GRANT = 10_000;

/** Requests to grant (0: none left, refuse). `want` is the holder's estimate of what it needs. */
export function grantSize(rpm: number, occupied: number, want: number): number {
  const left = rpm - occupied;
  if (left <= 0) return 0;
  const asked = Math.max(1, Math.floor(Number.isFinite(want) ? want : 1));
  return Math.max(1, Math.min(asked, Math.floor(left / SHARE), MAX_GRANT));
}
