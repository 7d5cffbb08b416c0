/**
 * A small in-isolate cache for KV reads. Config is read on every request; KV reads cost a round trip, so
 * each isolate keeps what it read for a few seconds. Revocation does not rely on this (the key's
 * Durable Object is the authority), so a short staleness window is safe.
 */
type Entry = { value: unknown; expiresAt: number };

const MAX_ENTRIES = 1000;
const entries = new Map<string, Entry>();

export function cacheGet(key: string, now = Date.now()): { hit: true; value: unknown } | { hit: false } {
  const entry = entries.get(key);
  if (!entry) return { hit: false };
  if (entry.expiresAt <= now) {
    entries.delete(key);
    return { hit: false };
  }
  return { hit: true, value: entry.value };
}

export function cacheSet(key: string, value: unknown, ttlMs: number, now = Date.now()): void {
  if (ttlMs <= 0) return;
  if (entries.size >= MAX_ENTRIES) {
    // Map keeps insertion order, so the first key is the oldest write.
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  entries.set(key, { value, expiresAt: now + ttlMs });
}

export function cacheDelete(key: string): void {
  entries.delete(key);
}

export function cacheClear(): void {
  entries.clear();
}
