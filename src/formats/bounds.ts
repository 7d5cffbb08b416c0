/**
 * Bounds on what clients send, checked before anything deeper reads it. JSON.parse takes any nesting, but
 * the code after it (prompt counting, translators, JSON.stringify of the upstream body) walks values
 * recursively, and a few thousand levels overflow the stack; a model string becomes a KV key, a header
 * value and part of a log line. Real clients stay far inside these limits: Claude Code's deepest tool
 * schemas are a few dozen levels.
 */

export const MAX_JSON_DEPTH = 128;
export const MAX_MODEL_LENGTH = 256;

/** Letters, digits, '.', '_', '-': what a provider (and a route) may be named; also safe in a KV key. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** C0 and C1 controls and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * Where JSON text nests deeper than `max`, without parsing it (one pass, no recursion): brackets are
 * counted outside strings. `field` is the top-level key the deep part sits under, for the error message
 * and OpenAI's `param`; null when the text nests too deep outside any (or is not an object). Returns null
 * when the text stays within `max` (malformed JSON is left for JSON.parse to report).
 */
export function tooDeep(text: string, max = MAX_JSON_DEPTH): { field: string | null } | null {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let stringStart = -1;
  // At depth 1 of an object, a string right after `{` or `,` is a key.
  let keyPosition = false;
  let field: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (stringStart >= 0) field = keyText(text.slice(stringStart, i + 1));
      }
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      stringStart = depth === 1 && keyPosition ? i : -1;
      keyPosition = false;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > max) return { field: depth > 1 ? field : null };
      keyPosition = depth === 1 && c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      keyPosition = false;
    } else if (c === COMMA) {
      keyPosition = depth === 1;
    }
  }
  return null;
}

function keyText(quoted: string): string | null {
  try {
    const key: unknown = JSON.parse(quoted);
    return typeof key === "string" ? key : null;
  } catch {
    return null;
  }
}

/**
 * What is wrong with a model string, in words for a 400 naming `model`; null if nothing. Bounded in
 * length, free of control characters and lone surrogates (they break headers, KV keys and logs), and with
 * a provider part that could name a provider at all, so nothing unbounded reaches a KV read.
 */
export function modelProblem(model: string): string | null {
  if (model.length > MAX_MODEL_LENGTH) return `The model name is longer than ${MAX_MODEL_LENGTH} characters.`;
  if (CONTROL.test(model) || LONE_SURROGATE.test(model)) {
    return "The model name contains control characters or invalid Unicode.";
  }
  const slash = model.indexOf("/");
  if (slash > 0 && !NAME.test(model.slice(0, slash))) {
    return `The provider part of model '${model}' is not a provider name (letters, digits, '.', '_' or '-', at most 64).`;
  }
  return null;
}

/** A client-chosen value as a header value: printable ASCII as it is, anything else percent-encoded. */
export function headerValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return value.replace(/[^\x20-\x7e]/gu, (c) =>
    LONE_SURROGATE.test(c) ? "%EF%BF%BD" : encodeURIComponent(c),
  );
}
