const encoder = new TextEncoder();

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Lowercase hex of the bytes (a table and a loop: this runs on every request, for the key's hash). */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b] ?? "";
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

/**
 * Constant-time string comparison. Both sides are hashed first so the comparison runs over equal-length
 * buffers and the time taken says nothing about the secret's length or prefix.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A new virtual key: 256 random bits behind a recognisable prefix (secret scanners can match `bl-`). */
export function newVirtualKey(): string {
  return `bl-${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function newKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `key_${hex(bytes)}`;
}
