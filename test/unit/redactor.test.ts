import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REDACTED, Redactor, secretForms } from "../../src/upstream/redactor";

const SECRET = "dapi-0123456789abcdef0123456789abcdef";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The reference, on plain strings: at each position the longest form that matches is replaced, and text
 * that ends inside a form is replaced from there when 8 or more characters of the form are present.
 */
function reference(text: string, forms: string[]): string {
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  let out = "";
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const form = sorted.find((f) => rest.startsWith(f) || (f.startsWith(rest) && rest.length >= 8));
    if (form) {
      out += REDACTED;
      i += Math.min(form.length, rest.length);
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** Whether `text` ends with 8 or more characters that begin some form. */
const endsInsideForm = (text: string, forms: string[]) =>
  forms.some((f) => {
    for (let n = 8; n < f.length; n++) if (text.endsWith(f.slice(0, n))) return true;
    return false;
  });

/** Splits bytes at the given cut points, as a network would. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(bytes.slice(last, p));
    last = p;
  }
  parts.push(bytes.slice(last));
  return parts;
}

/** Streams `parts` through one redaction; returns the output and what was out after each push. */
function streamed(redactor: Redactor, parts: Uint8Array[]) {
  const s = redactor.stream();
  const outs = parts.map((p) => s.push(p));
  const tail = s.end();
  return { text: decoder.decode(concat([...outs, tail])), outs, tail };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const b64 = (s: string) => btoa(String.fromCharCode(...encoder.encode(s)));
const b64url = (s: string) => b64(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("secretForms", () => {
  it("has the secret as sent, URL-encoded, base64/base64url at every alignment and JSON-escaped", () => {
    const secret = "dapi+/=sec ret?0123456789";
    const forms = secretForms(secret);
    expect(forms).toContain(secret);
    expect(forms).toContain(encodeURIComponent(secret));
    expect(forms).toContain(encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    // Whatever precedes the secret inside an encoded text, one of the cores is in its encoding.
    for (const prefix of ["", "a", "ab", "Bearer ", "user:", "Authorization: Bearer "]) {
      expect(forms.some((f) => b64(prefix + secret + "!").includes(f))).toBe(true);
      expect(forms.some((f) => b64url(prefix + secret + "!").includes(f))).toBe(true);
    }
    expect(forms).toContain(JSON.stringify(secret).slice(1, -1).replace(/\//g, "\\/"));
    // Longest first: at one position the longest form wins.
    expect(forms.map((f) => f.length)).toEqual([...forms.map((f) => f.length)].sort((a, b) => b - a));
  });

  it("skips derived forms too short to be told apart from other text, keeps the secret itself", () => {
    expect(secretForms("abc")).toEqual(["abc"]);
  });
});

describe("Redactor.redact", () => {
  const r = Redactor.for(SECRET);

  it("replaces every form, wherever it sits", () => {
    const text = [
      `Bearer ${SECRET}`,
      encodeURIComponent(`x=${SECRET}`),
      b64(`Authorization: Bearer ${SECRET}`),
      b64url(`user:${SECRET}`),
      JSON.stringify({ m: SECRET }),
      `${SECRET}${SECRET}`,
    ].join(" | ");
    const out = r.redact(text);
    for (const form of secretForms(SECRET)) expect(out).not.toContain(form);
    expect(out).toContain(`Bearer ${REDACTED}`);
    expect(out).toContain(`${REDACTED}${REDACTED}`);
  });

  it("returns text without the secret as it is", () => {
    const text = `dapi-0123456789abcdef0123456789abcdeX and ${SECRET.slice(0, 20)} and ${SECRET.slice(0, 7)}`;
    expect(r.redact(text)).toBe(text);
  });

  it("redacts text that ends inside the secret (a body cut at a size limit)", () => {
    expect(r.redact(`credentials 'Bearer ${SECRET.slice(0, 20)}`)).toBe(`credentials 'Bearer ${REDACTED}`);
  });

  it("redacts a text that ends inside any form from 8 of its characters on, and not before", () => {
    for (const form of secretForms(SECRET)) {
      for (let n = 1; n < form.length; n++) {
        const text = `cut: ${form.slice(0, n)}`;
        expect(r.redact(text), `${form} cut after ${n}`).toBe(n >= 8 ? `cut: ${REDACTED}` : text);
      }
    }
  });

  it("does nothing for a provider without a secret", () => {
    expect(Redactor.for(null).redact(`Bearer ${SECRET}`)).toBe(`Bearer ${SECRET}`);
  });

  it("agrees with the reference on arbitrary text around arbitrary secrets", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.constant("<S>")), { maxLength: 8 }),
        (secret, parts) => {
          const text = parts.map((p) => (p === "<S>" ? secret : p)).join("");
          const forms = secretForms(secret);
          expect(Redactor.for(secret).redact(text)).toBe(reference(text, forms));
        },
      ),
      { seed: 1093, numRuns: 500 },
    );
  });
});

describe("Redactor.stream", () => {
  const r = Redactor.for(SECRET);

  it("catches the secret split at every byte position, also over three chunks", () => {
    const text = `data: {"error":{"message":"bad credentials 'Bearer ${SECRET}'"}}\n\n`;
    const bytes = encoder.encode(text);
    const expected = r.redact(text);
    expect(expected).not.toContain(SECRET);
    for (let i = 0; i <= bytes.length; i++) {
      expect(streamed(r, split(bytes, [i])).text).toBe(expected);
      for (let j = i; j <= Math.min(bytes.length, i + SECRET.length + 2); j++) {
        expect(streamed(r, split(bytes, [i, j])).text).toBe(expected);
      }
    }
  });

  it("gives the same result as redacting the whole text, however the stream is split", () => {
    const pieces = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        SECRET,
        `Bearer ${SECRET}`,
        encodeURIComponent(SECRET),
        b64(`Bearer ${SECRET}`),
        SECRET.slice(0, 30),
        SECRET.slice(5),
        "dapi-",
        "d",
      ),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 12 }), (ps, cuts) => {
        const text = ps.join("");
        const out = streamed(r, split(encoder.encode(text), cuts)).text;
        expect(out).toBe(r.redact(text));
        for (const form of secretForms(SECRET)) expect(out).not.toContain(form);
      }),
      { seed: 4242, numRuns: 1000 },
    );
  });

  it("passes a chunk with nothing to redact through untouched: the same bytes object, at once", () => {
    const chunk = encoder.encode('data: {"choices":[{"delta":{"content":"hello"}}]}\n\n');
    const s = r.stream();
    expect(s.push(chunk)).toBe(chunk);
    expect(s.end()).toHaveLength(0);
  });

  it("holds back only a tail that could begin the secret, and sends near-misses on unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 12 }),
            // Near-misses: the secret with one character changed, or cut short.
            fc
              .tuple(fc.integer({ min: 0, max: SECRET.length - 1 }), fc.constantFrom("X", "-", "é"))
              .map(([i, c]) => SECRET.slice(0, i) + c + SECRET.slice(i + 1))
              .filter((s) => s !== SECRET),
            fc.integer({ min: 1, max: SECRET.length - 1 }).map((n) => SECRET.slice(0, n) + " "),
          ),
          { maxLength: 8 },
        ),
        fc.array(fc.nat(), { maxLength: 12 }),
        (ps, cuts) => {
          const text = ps.join("");
          const forms = secretForms(SECRET);
          fc.pre(!forms.some((f) => text.includes(f)) && !endsInsideForm(text, forms));
          const bytes = encoder.encode(text);
          const parts = split(bytes, cuts);
          const { outs, text: out } = streamed(r, parts);
          expect(out).toBe(text);
          // After each push, everything received is out except a held tail that could begin a form.
          let received = 0;
          let sent = 0;
          parts.forEach((p, k) => {
            received += p.length;
            sent += outs[k]?.length ?? 0;
            const held = decoder.decode(bytes.slice(sent, received));
            expect(held === "" || forms.some((f) => f.startsWith(held) && held.length < f.length)).toBe(true);
          });
        },
      ),
      { seed: 77, numRuns: 1000 },
    );
  });

  it("redacts a stream that ends inside the secret, as the whole text would be", () => {
    const text = `data: {"error":"Bearer ${SECRET.slice(0, 20)}`;
    const bytes = encoder.encode(text);
    for (let i = 0; i <= bytes.length; i++) {
      expect(streamed(r, split(bytes, [i])).text).toBe(`data: {"error":"Bearer ${REDACTED}`);
    }
  });

  it("never lets a whole secret out, however many times it repeats", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (n, cuts) => {
        const text = Array.from({ length: n }, () => SECRET).join("");
        const out = streamed(r, split(encoder.encode(text), cuts)).text;
        expect(out).toBe(REDACTED.repeat(n));
      }),
      { seed: 9, numRuns: 300 },
    );
  });
});
