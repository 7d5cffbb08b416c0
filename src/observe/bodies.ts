/**
 * Request and response bodies for keys or teams with `logBodies` (the inference-table use case): capped so a
 * record stays well inside a Queue message (128 KB), and redacted of secrets first.
 */

import { REDACTED, Redactor } from "../upstream/redactor";

/** Each body keeps at most this many bytes of UTF-8. */
export const MAX_LOGGED_BODY_BYTES = 32 * 1024;

/** Secrets that may turn up in a prompt or an answer even when nobody configured them: keys and tokens. */
const SECRET_PATTERNS = [
  // Bricklane virtual keys
  /bl-[A-Za-z0-9_-]{43}/g,
  // Databricks personal access tokens
  /dapi[0-9a-f]{32}(-\d+)?/g,
];

/**
 * The text with every known secret value (in every form the gateway's redactor knows: as sent, URL-encoded,
 * base64) and anything shaped like a key or token replaced.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = Redactor.for(secrets).redact(text);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

/** At most `maxBytes` of UTF-8, cut at a character boundary. */
export function capUtf8(
  text: string,
  maxBytes = MAX_LOGGED_BODY_BYTES,
): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return { text, truncated: false };
  // A cut inside a character would decode as U+FFFD: back up to the start of that character instead.
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), truncated: true };
}

/** A body for the log: redacted, then capped. */
export function loggedBody(text: string, secrets: readonly string[]): { text: string; truncated: boolean } {
  return capUtf8(redactSecrets(text, secrets));
}

/**
 * A pass-through stage that keeps a copy of the first bytes of a stream (what the client got), for the log.
 * `settled` resolves when the stream ends or is cancelled.
 */
export type BodyCapture = {
  stream: TransformStream<Uint8Array, Uint8Array>;
  text: () => string;
  settled: Promise<void>;
};

/** Kept beyond the cap, so a secret that starts before the cap is whole when it is redacted. */
const REDACTION_MARGIN_BYTES = 1024;

export function bodyCapture(maxBytes = MAX_LOGGED_BODY_BYTES): BodyCapture {
  const kept: Uint8Array[] = [];
  let size = 0;
  const limit = maxBytes + REDACTION_MARGIN_BYTES;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (size >= limit) return;
      const part = chunk.subarray(0, limit - size);
      kept.push(part.slice());
      size += part.length;
    },
    flush() {
      settle();
    },
    cancel() {
      settle();
    },
  });
  const text = () => {
    const all = new Uint8Array(size);
    let at = 0;
    for (const part of kept) {
      all.set(part, at);
      at += part.length;
    }
    return new TextDecoder().decode(all);
  };
  return { stream, text, settled };
}
