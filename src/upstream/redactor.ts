/**
 * Takes a provider's secret out of everything the upstream sends back, before the gateway reads, cuts or
 * relays it. An upstream that echoes the request's Authorization header (in an error message, a header, an
 * in-band stream error) must never get the token to a client or a log.
 *
 * The secret is looked for in every form a careless upstream might echo it in: as sent (which also covers
 * `Bearer <secret>`), URL-encoded (as in a quoted URL or form body), base64 and base64url (as in an echoed
 * Basic credential or a dumped header blob, at each of the three byte alignments the secret can have inside
 * a longer encoded text), and JSON-escaped (`\/` included). Every occurrence becomes `[redacted]`.
 */

export const REDACTED = "[redacted]";

/**
 * Derived forms shorter than this are not looked for: the base64 core of a very short secret would match
 * unrelated text (an embedding's base64 vector, say). The secret as sent is always looked for.
 */
const MIN_DERIVED_LENGTH = 16;

/**
 * Text that ends inside a form (a stream cut short, a body cut at a size limit) has its last bytes
 * redacted too when they are this long: the first twenty characters of a token are not for a client.
 */
const MIN_TRAILING = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const REPLACEMENT = encoder.encode(REDACTED);

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The part of the secret's base64 that stays the same wherever the secret sits in a longer encoded text:
 * for each of the three alignments, the characters whose six bits all come from the secret.
 */
function base64Cores(secret: Uint8Array): string[] {
  const cores: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const padded = new Uint8Array(pad + secret.length);
    padded.set(secret, pad);
    const encoded = base64(padded);
    cores.push(encoded.slice(Math.ceil((8 * pad) / 6), Math.floor((8 * (pad + secret.length)) / 6)));
  }
  return cores;
}

const base64url = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_");

function uriEncoded(secret: string): string[] {
  try {
    const upper = encodeURIComponent(secret);
    return [upper, upper.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())];
  } catch {
    // A lone surrogate cannot be URL-encoded, so no upstream can have echoed it that way.
    return [];
  }
}

const jsonEscaped = (s: string) => {
  const escaped = JSON.stringify(s).slice(1, -1);
  return [escaped, escaped.replace(/\//g, "\\/")];
};

/** Every form of `secret` to look for, longest first (at one position the longest match wins). */
export function secretForms(secret: string): string[] {
  const cores = base64Cores(encoder.encode(secret));
  const derived = [...uriEncoded(secret), ...cores, ...cores.map(base64url)];
  const forms = [secret, ...derived.filter((f) => f.length >= MIN_DERIVED_LENGTH)];
  const all = new Set(forms.flatMap((f) => [f, ...jsonEscaped(f)]));
  all.delete("");
  return [...all].sort((a, b) => b.length - a.length);
}

/** Incremental redaction of one byte stream: what may be sent now, holding back only a possible secret start. */
export interface StreamRedaction {
  /** The bytes of `chunk` (and any held back before it) that can go on; `chunk` itself when untouched. */
  push(chunk: Uint8Array): Uint8Array;
  /** The end of the stream: the held-back tail, redacted if it is a long enough beginning of a form. */
  end(): Uint8Array;
}

type Scan = { pieces: Uint8Array[]; replaced: boolean; held: Uint8Array | null };

export class Redactor {
  private readonly forms: string[];
  /** The forms' bytes by their first byte: most bytes of a stream start none and cost one lookup. */
  private readonly byFirstByte: Array<Uint8Array[] | undefined> = new Array(256);

  private constructor(secrets: readonly string[]) {
    this.forms = secrets.flatMap((secret) => (secret ? secretForms(secret) : []));
    for (const form of this.forms) {
      const bytes = encoder.encode(form);
      const first = bytes[0];
      if (first === undefined) continue;
      (this.byFirstByte[first] ??= []).push(bytes);
    }
  }

  private static readonly cache = new Map<string, Redactor>();
  private static readonly none = new Redactor([]);

  /**
   * The redactor for a provider's secrets: a bearer secret, or an OAuth access token and its client
   * secret (`null` or none: a provider without one, which has nothing to hide).
   */
  static for(secrets: string | null | readonly string[]): Redactor {
    const list = (typeof secrets === "string" ? [secrets] : (secrets ?? [])).filter((s) => s !== "");
    if (list.length === 0) return Redactor.none;
    const cacheKey = list.join("\u0000");
    let redactor = Redactor.cache.get(cacheKey);
    if (!redactor) {
      // Few providers, few secrets: a small cache spares re-deriving the forms on every call.
      if (Redactor.cache.size >= 32) Redactor.cache.clear();
      redactor = new Redactor(list);
      Redactor.cache.set(cacheKey, redactor);
    }
    return redactor;
  }

  /** `text` with every form of the secret replaced. */
  redact(text: string): string {
    if (!this.forms.some((form) => text.includes(form)) && !this.endsInsideForm(text)) return text;
    const { pieces } = this.scan(encoder.encode(text), true);
    return decoder.decode(concat(pieces));
  }

  /**
   * Whether the last MIN_TRAILING or more characters of `text` begin a form. Only the positions holding a
   * form's first character are compared: slicing every possible prefix of every form cost a call about
   * 25 µs in Node with an OAuth token (over 1,000 characters) as the secret.
   */
  private endsInsideForm(text: string): boolean {
    for (const form of this.forms) {
      const first = form.charCodeAt(0);
      for (let at = Math.max(0, text.length - form.length + 1); at <= text.length - MIN_TRAILING; at++) {
        if (text.charCodeAt(at) === first && form.startsWith(text.slice(at))) return true;
      }
    }
    return false;
  }

  stream(): StreamRedaction {
    let held: Uint8Array | null = null;
    return {
      push: (chunk) => {
        if (this.forms.length === 0) return chunk;
        const data: Uint8Array = held ? concat([held, chunk]) : chunk;
        const hadHeld = held !== null;
        const scan = this.scan(data, false);
        held = scan.held;
        if (!hadHeld && !scan.replaced && !scan.held) return chunk;
        return concat(scan.pieces);
      },
      end: () => {
        const rest = held;
        held = null;
        return rest ? concat(this.scan(rest, true).pieces) : new Uint8Array(0);
      },
    };
  }

  /**
   * One pass over `data`: at each position the longest form that matches is replaced. Unless `final`, a
   * position where the data ends inside a form is where holding back starts, so the decision is taken
   * again, the same way, once the next bytes are there; chunk boundaries never change the result. At the
   * `final` end, data that ends inside a form is replaced if at least MIN_TRAILING bytes of it are there.
   */
  private scan(data: Uint8Array, final: boolean): Scan {
    const pieces: Uint8Array[] = [];
    let emitFrom = 0;
    let replaced = false;
    let at = 0;
    while (at < data.length) {
      const forms = this.byFirstByte[data[at] ?? 0];
      if (!forms) {
        at++;
        continue;
      }
      let matched = 0;
      for (const form of forms) {
        const available = data.length - at;
        const compared = Math.min(available, form.length);
        if (!equalAt(data, at, form, compared)) continue;
        if (compared === form.length) {
          matched = form.length;
          break;
        }
        if (!final) {
          pieces.push(data.subarray(emitFrom, at));
          return { pieces, replaced, held: data.slice(at) };
        }
        if (compared >= MIN_TRAILING) {
          matched = compared;
          break;
        }
      }
      if (matched > 0) {
        pieces.push(data.subarray(emitFrom, at), REPLACEMENT);
        replaced = true;
        emitFrom = at = at + matched;
      } else {
        at++;
      }
    }
    pieces.push(data.subarray(emitFrom));
    return { pieces, replaced, held: null };
  }
}

function equalAt(data: Uint8Array, offset: number, form: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (data[offset + i] !== form[i]) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
