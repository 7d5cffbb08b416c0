import type { Provider } from "../config/schemas";
import { isRecord } from "../formats/sse";

/**
 * A provider's `passthrough` shaping, for upstreams that reject newer client features: named betas come
 * out of `anthropic-beta`, named fields out of the body. Applied only where the body goes upstream as
 * the client sent it; translation builds its own body and never carries such fields.
 */

/** Where a field path is tried: the body itself, its messages, system blocks and tools, and their blocks. */
const PART_LISTS = ["system", "messages", "tools"] as const;

/** `obj` without the field at `path` (dotted, through objects), or null when there is nothing to remove. */
function without(obj: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | null {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(obj, head)) return null;
  if (rest.length === 0) {
    const copy = { ...obj };
    delete copy[head];
    return copy;
  }
  const child = obj[head];
  const changed = isRecord(child) ? without(child, rest) : null;
  return changed ? { ...obj, [head]: changed } : null;
}

function shapeObject(obj: Record<string, unknown>, paths: readonly (readonly string[])[]) {
  let out = obj;
  for (const path of paths) out = without(out, path) ?? out;
  return out;
}

/** A list of parts with each part (and each block in its `content`, two levels deep) shaped. */
function shapeList(list: unknown, paths: readonly (readonly string[])[], depth: number): unknown {
  if (!Array.isArray(list)) return list;
  let changed = false;
  const out = list.map((item: unknown) => {
    if (!isRecord(item)) return item;
    let shaped = shapeObject(item, paths);
    if (depth > 0 && Array.isArray(shaped.content)) {
      const content = shapeList(shaped.content, paths, depth - 1);
      if (content !== shaped.content) shaped = { ...shaped, content };
    }
    if (shaped !== item) changed = true;
    return shaped;
  });
  return changed ? out : list;
}

/**
 * The body without the fields a provider names. A path such as `context_management` or
 * `cache_control.scope` is removed wherever it occurs on the body, on each system block, message and
 * tool, and on each content block of a message (and inside a tool result's content). The client's body is
 * not modified.
 */
export function removeFields(
  body: Record<string, unknown>,
  fields: readonly string[] | undefined,
): Record<string, unknown> {
  if (!fields || fields.length === 0) return body;
  const paths = fields.map((f) => f.split("."));
  let out = shapeObject(body, paths);
  for (const key of PART_LISTS) {
    const list = out[key];
    const shaped = shapeList(list, paths, 2);
    if (shaped !== list) out = { ...out, [key]: shaped };
  }
  return out;
}

function matches(beta: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith("*") ? beta.startsWith(p.slice(0, -1)) : beta === p));
}

/** Removes the named betas (exact names, or prefixes ending in `*`) from `anthropic-beta`. */
export function removeBetas(headers: Headers, patterns: readonly string[] | undefined): void {
  const value = headers.get("anthropic-beta");
  if (!patterns || patterns.length === 0 || value === null) return;
  const kept = value
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "" && !matches(b, patterns));
  if (kept.length > 0) headers.set("anthropic-beta", kept.join(","));
  else headers.delete("anthropic-beta");
}

/** The body and header edits for one passthrough call to `provider`. */
export function passthroughShaping(provider: Provider, body: Record<string, unknown>) {
  const shaping = provider.passthrough;
  return {
    body: removeFields(body, shaping?.removeFields),
    editHeaders: shaping?.removeBetas
      ? (headers: Headers) => removeBetas(headers, shaping.removeBetas)
      : undefined,
  };
}
