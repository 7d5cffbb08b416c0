import { fail, invalid } from "../translate/mapping";
import type { Failure } from "../translate/types";

/**
 * A validation failure inside `path` (an input item, a tool), reported with the full path as `param`, e.g.
 * `input[3].call_id` rather than the item schema's own `call_id`.
 */
export function prefixed(error: Parameters<typeof invalid>[0], path: string): Failure {
  const r = invalid(error, "item");
  // invalid() writes "<param>: <message>" whenever it has a param.
  const message = r.param ? r.message.slice(r.param.length + 2) : r.message;
  const param = r.param ? `${path}${r.param.startsWith("[") ? "" : "."}${r.param}` : path;
  return fail(`${param}: ${message}`, param);
}
