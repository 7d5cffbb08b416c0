const encoder = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
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
  return `key_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
