// @ts-check
/**
 * Fault specs: parsed from the `x-emulator-fault: key=value;key=value` request header or queued with
 * `POST /__emulator/faults` (FIFO, one spec per model request).
 */

/**
 * @typedef {object} Fault
 * @property {number} [status] error response with this status (400-599), in the endpoint's format
 * @property {number} [retry_after] seconds for the `retry-after` header of a 429 (default 1)
 * @property {number} [delay_ms] wait before sending the response headers
 * @property {number} [chunk_delay_ms] wait between stream frames
 * @property {number} [cut_after] stream: write this many frames, then destroy the socket
 * @property {number} [error_after] stream: write this many frames, then an in-band error frame and end
 * @property {number} [chunks] number of content chunks (text deltas)
 * @property {number} [chunk_bytes] characters per content chunk (default 16 once chunks is set)
 * @property {number} [tool_calls] number of tool calls when tools are offered (default 1)
 * @property {boolean} [hang] accept the request and never answer, until the client goes away
 * @property {boolean} [no_usage] omit usage everywhere
 * @property {boolean} [echo_auth] the request's Authorization header is repeated, as a careless upstream
 *   might: in the error message (with `status`) and in the mid-stream error event (with `error_after`)
 * @property {"raw" | "url" | "base64" | "base64url"} [echo_form] how echo_auth repeats it (default raw)
 * @property {number} [error_pad] with echo_auth: filler so the echoed value starts at this character of
 *   the message (to put a token across a cut the gateway makes)
 * @property {"json" | "text"} [error_body] with `status`: the error body in the endpoint's JSON format
 *   (default) or the bare message as text/plain
 * @property {boolean} [echo_headers] with echo_auth: `retry-after`, `retry-after-ms` and
 *   `x-emulator-echo` carry the echoed value (on errors and on answers)
 * @property {boolean} [split_echo] streams: the mid-stream error event is written in two writes, split in
 *   the middle of the echoed value (or of the frame), `chunk_delay_ms` (default 20) apart
 * @property {boolean} [strict] Anthropic endpoints: answer 400, as an upstream that does not know them
 *   would, to newer client features: the betas `context-management-*` and `prompt-caching-scope-*`, a
 *   top-level `context_management`, and `scope` in any `cache_control`
 * @property {number} [cache_read] usage reports this many input tokens read from the prompt cache
 * @property {number} [cache_write] usage reports this many input tokens written to the prompt cache
 * @property {number} [reasoning] usage reports this many more output tokens, spent on reasoning
 * @property {string} [echoed] set by the emulator, not a spec key: the echoed value for this request
 */

/** Keys whose value is a non-negative integer. */
const INTEGER_KEYS = /** @type {const} */ ([
  "status",
  "retry_after",
  "delay_ms",
  "chunk_delay_ms",
  "cut_after",
  "error_after",
  "chunks",
  "chunk_bytes",
  "tool_calls",
  "error_pad",
  "cache_read",
  "cache_write",
  "reasoning",
]);
/** Keys whose value is a flag (1/0, true/false). */
const FLAG_KEYS = /** @type {const} */ ([
  "hang",
  "no_usage",
  "echo_auth",
  "echo_headers",
  "split_echo",
  "strict",
]);
/** Keys whose value is one of a few words. */
const WORD_KEYS = /** @type {Record<string, readonly string[]>} */ ({
  echo_form: ["raw", "url", "base64", "base64url"],
  error_body: ["json", "text"],
});

export class FaultError extends Error {}

/**
 * Parses one fault spec: the header string form `status=429;retry_after=2` or an object
 * `{status: 429, retry_after: 2}`. Throws FaultError on an unknown key or a bad value, so a typo in a
 * test shows up instead of silently doing nothing.
 * @param {unknown} spec
 * @returns {Fault}
 */
export function parseFault(spec) {
  /** @type {[string, unknown][]} */
  let entries;
  if (typeof spec === "string") {
    entries = spec
      .split(/[;,]/)
      .map((part) => part.trim())
      .filter((part) => part !== "")
      .map((part) => {
        const eq = part.indexOf("=");
        return eq === -1 ? [part, "1"] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
      });
  } else if (spec !== null && typeof spec === "object" && !Array.isArray(spec)) {
    entries = Object.entries(spec);
  } else {
    throw new FaultError("a fault spec must be a string like 'status=429;retry_after=2' or an object");
  }
  /** @type {Record<string, number | boolean | string>} */
  const fault = {};
  for (const [key, raw] of entries) {
    if (/** @type {readonly string[]} */ (INTEGER_KEYS).includes(key)) {
      const value = typeof raw === "number" ? raw : Number(String(raw));
      if (!Number.isInteger(value) || value < 0) throw new FaultError(`fault ${key} must be an integer >= 0`);
      fault[key] = value;
    } else if (/** @type {readonly string[]} */ (FLAG_KEYS).includes(key)) {
      fault[key] = raw === true || raw === 1 || raw === "1" || raw === "true";
    } else if (key in WORD_KEYS) {
      const words = WORD_KEYS[key] ?? [];
      if (typeof raw !== "string" || !words.includes(raw)) {
        throw new FaultError(`fault ${key} must be one of ${words.join(", ")}`);
      }
      fault[key] = raw;
    } else {
      throw new FaultError(`unknown fault key '${key}'`);
    }
  }
  if (fault.status !== undefined && (Number(fault.status) < 400 || Number(fault.status) > 599)) {
    throw new FaultError("fault status must be between 400 and 599");
  }
  return /** @type {Fault} */ (fault);
}

/** FIFO of queued faults; each model request takes the next one. */
export class FaultQueue {
  /** @type {Fault[]} */
  #items = [];

  /** @param {Fault[]} faults */
  push(...faults) {
    this.#items.push(...faults);
  }

  /** @returns {Fault | undefined} */
  shift() {
    return this.#items.shift();
  }

  clear() {
    this.#items.length = 0;
  }

  /** @returns {Fault[]} */
  list() {
    return [...this.#items];
  }
}

/**
 * The fault for one model request: the next queued one, with the header's keys on top.
 * @param {FaultQueue} queue
 * @param {string | undefined} header value of x-emulator-fault
 * @returns {Fault} throws FaultError when the header is malformed (the queue is not consumed then)
 */
export function takeFault(queue, header) {
  const fromHeader = header === undefined || header.trim() === "" ? {} : parseFault(header);
  return { ...(queue.shift() ?? {}), ...fromHeader };
}

/**
 * The value echo_auth repeats: the Authorization header in the form the fault asks for.
 * @param {Fault} fault
 * @param {string} authorization
 * @returns {string} "" when nothing is echoed
 */
export function echoedValue(fault, authorization) {
  if (!fault.echo_auth) return "";
  switch (fault.echo_form) {
    case "url":
      return encodeURIComponent(authorization);
    case "base64":
      return Buffer.from(authorization).toString("base64");
    case "base64url":
      return Buffer.from(authorization).toString("base64url");
    default:
      return authorization;
  }
}

/**
 * A message with the fault's echo in it: `base`, then filler up to `error_pad`, then the echoed value.
 * @param {string} base
 * @param {Fault} fault
 */
export function withEcho(base, fault) {
  if (!fault.echoed) return base;
  const lead = `${base} for credentials '`;
  return `${lead}${"x".repeat(Math.max(0, (fault.error_pad ?? 0) - lead.length))}${fault.echoed}'`;
}
