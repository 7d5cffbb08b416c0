import type { z } from "zod";
import { GatewayError, type Issue } from "../errors";
import { MAX_JSON_DEPTH, tooDeep } from "./bounds";

/** `messages[0].role` style path for error messages and OpenAI's `param`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Most problems spelled out in one message; the rest are still in `issues`. */
const MAX_ISSUES_IN_MESSAGE = 10;

/** A 400 that lists every problem found (`issues`), in words a client developer can act on. */
export function invalid(issues: Issue[], what = "request body"): GatewayError {
  const first = issues[0];
  if (!first) return new GatewayError("invalid_request", 400, `Invalid ${what}.`);
  const said = issues
    .slice(0, MAX_ISSUES_IN_MESSAGE)
    .map((i) => (i.path ? `'${i.path}': ${i.message}` : i.message));
  const more = issues.length - said.length;
  const message = `Invalid ${what}: ${said.join("; ")}${more > 0 ? ` (and ${more} more)` : ""}`;
  return new GatewayError("invalid_request", 400, message, { param: first.path || null, issues });
}

export function validationError(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  what = "request body",
): GatewayError {
  return invalid(
    error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
    what,
  );
}

/**
 * Parses a JSON body that must be an object; malformed JSON is the client's error, never a crash, and so is
 * JSON nested deeper than anything after the parse could walk.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  const deep = tooDeep(text);
  if (deep) {
    const field = deep.field === null ? null : deep.field.slice(0, 64);
    const where = field === null ? "The request body" : `Invalid request body: '${field}'`;
    throw new GatewayError("invalid_request", 400, `${where} nests deeper than ${MAX_JSON_DEPTH} levels.`, {
      param: field,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new GatewayError("invalid_request", 400, "The request body is not valid JSON.", {
      internal: e instanceof Error ? e.message : String(e),
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError("invalid_request", 400, "The request body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}
