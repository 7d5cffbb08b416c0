import { isRecord } from "./sse";

/**
 * Characters of text in a parsed JSON value of any shape, for token estimates: strings directly inside
 * arrays or under one of `textKeys` (searched again inside those), plus the JSON size of whatever sits
 * under one of `jsonKeys` (tool inputs). Iterative, so no nesting depth a client sends can overflow the
 * stack, and any shape counts as something rather than failing: requests are forwarded as sent, so the
 * estimate cannot rely on them being well formed.
 */
export function textChars(
  value: unknown,
  textKeys: readonly string[],
  jsonKeys: readonly string[] = [],
): number {
  let chars = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") chars += v.length;
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (isRecord(v)) {
      for (const key of textKeys) if (Object.hasOwn(v, key)) stack.push(v[key]);
      for (const key of jsonKeys) if (Object.hasOwn(v, key)) chars += jsonChars(v[key]);
    }
  }
  return chars;
}

/**
 * About the length of `JSON.stringify(value)`: keys, strings and numbers with their quotes and
 * separators, counted without recursion (JSON.stringify itself throws on deep nesting).
 */
export function jsonChars(value: unknown): number {
  let chars = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") chars += v.length + 2;
    else if (typeof v === "number" || typeof v === "boolean") chars += String(v).length;
    else if (v === null) chars += 4;
    else if (Array.isArray(v)) {
      chars += 2 + Math.max(0, v.length - 1);
      for (const item of v) stack.push(item);
    } else if (isRecord(v)) {
      const keys = Object.keys(v);
      chars += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        chars += key.length + 3;
        stack.push(v[key]);
      }
    }
  }
  return chars;
}
