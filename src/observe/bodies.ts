/**
 * Request and response bodies for keys or teams with `logBodies` (the inference-table use case): redacted of
 * secrets first, each capped, and both cut further when escaping would take their record past what one
 * Queue message holds (`fitBodies`).
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

const encoder = new TextEncoder();

/** The bytes a value takes in a record's JSON, as the Queue counts a message. */
export function jsonSize(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).byteLength;
}

/**
 * `text` cut at a character boundary until it takes at most `maxJsonBytes` as a JSON string. A cut in
 * proportion may not be enough (escaping is not spread evenly), so the size is measured again after each.
 */
function fitJson(text: string, maxJsonBytes: number): string {
  let out = text;
  for (let size = jsonSize(out); size > maxJsonBytes && out !== ""; size = jsonSize(out)) {
    const utf8 = encoder.encode(out).byteLength;
    // Less than `utf8` (the size is over the bound), so each round cuts something.
    out = capUtf8(out, Math.floor((utf8 * maxJsonBytes) / size)).text;
  }
  return out;
}

/**
 * Bodies cut further so that together they take at most `budget` bytes of JSON. The UTF-8 cap alone does
 * not bound a record: escaped, a body grows (a backslash or a quote to two bytes, a control character to
 * six), and a record too large for a Queue message is never stored. Smaller bodies keep what they have
 * while it fits in an even share; the larger ones share what is left. Returns them in the same order, and
 * whether any was cut.
 */
export function fitBodies(texts: readonly string[], budget: number): { texts: string[]; truncated: boolean } {
  const out = [...texts];
  const order = texts.map((text, i) => ({ i, size: jsonSize(text) })).sort((a, b) => a.size - b.size);
  let left = budget;
  let truncated = false;
  order.forEach(({ i, size }, n) => {
    const share = Math.floor(left / (order.length - n));
    const text = texts[i] ?? "";
    const fitted = size <= share ? text : fitJson(text, share);
    if (fitted !== text) truncated = true;
    out[i] = fitted;
    left -= jsonSize(fitted);
  });
  return { texts: out, truncated };
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
