/**
 * Shared by the two things an isolate sends in batches, usage (src/limits/batches.ts) and call records
 * (src/observe/outbox.ts): when an open batch has lost the request that was to send it, and the one
 * promise a call keeps alive for the batches it sends.
 */

/** A batch still open this long after it opened lost its sender (whose timer would have fired). */
export function overdueMs(flushMs: number): number {
  return 2 * Math.max(0, flushMs) + 1000;
}

/** What a call holds in `waitUntil`: nothing, the one send it makes, or all of them. */
export function holdOf(sends: Promise<void>[]): Promise<void> | null {
  if (sends.length <= 1) return sends[0] ?? null;
  return Promise.all(sends).then(() => {});
}
