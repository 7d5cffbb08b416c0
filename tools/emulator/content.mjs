// @ts-check
/**
 * Deterministic answers shared by both formats: the reply text, how it is cut into stream chunks, tool
 * call arguments built from a JSON schema, and the ~4-characters-a-token estimate Databricks uses.
 */

/** @typedef {import("./faults.mjs").Fault} Fault */

/**
 * The plan of a text answer: `count` chunks, produced on demand so a 100 MB stream never exists in
 * memory at once.
 * @typedef {object} TextPlan
 * @property {number} count number of chunks
 * @property {number} totalChars total characters of the answer
 * @property {boolean} truncated true when max_tokens cut the answer short
 * @property {(i: number) => string} at the text of chunk i
 */

/** Chunks of a normal (no `chunks`/`chunk_bytes` fault) answer. */
export const DEFAULT_CHUNKS = 5;
/** Characters per chunk once `chunks` is set without `chunk_bytes`. */
export const DEFAULT_CHUNK_BYTES = 16;

/**
 * Tokens for a number of characters: ceil(chars / 4), at least 1.
 * @param {number} chars
 */
export function estimateTokens(chars) {
  return Math.max(1, Math.ceil(chars / 4));
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Text of a content value that is a string or an array of parts/blocks with `text` (others skipped).
 * Anthropic tool_result blocks contribute their own content.
 * @param {unknown} content
 * @returns {string}
 */
export function contentText(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  /** @type {string[]} */
  const parts = [];
  for (const part of content) {
    if (typeof part === "string") parts.push(part);
    else if (isObject(part) && typeof part.text === "string") parts.push(part.text);
    else if (isObject(part) && part.type === "tool_result") parts.push(contentText(part.content));
  }
  return parts.join(" ");
}

/**
 * Reply to a user message.
 * @param {string} userText
 */
export function replyText(userText) {
  return `Hello from the emulator. You said: ${userText}`;
}

/**
 * Reply after a tool result.
 * @param {string} toolText
 */
export function toolReplyText(toolText) {
  return `Hello from the emulator. The tool returned: ${toolText}`;
}

/**
 * Splits a string into `n` nearly equal pieces by code point (no split surrogate pairs).
 * @param {string} text
 * @param {number} n
 * @returns {string[]}
 */
export function splitEven(text, n) {
  const points = Array.from(text);
  const count = Math.max(1, Math.min(n, points.length));
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(
      points
        .slice(Math.floor((i * points.length) / count), Math.floor(((i + 1) * points.length) / count))
        .join(""),
    );
  }
  return out;
}

/**
 * The answer's chunk plan. Without `chunks`/`chunk_bytes` the reply is cut into DEFAULT_CHUNKS pieces;
 * with them there are `chunks` chunks of exactly `chunk_bytes` ASCII characters (the reply repeated).
 * `maxChars` (max_tokens * 4) truncates the answer.
 * @param {string} reply
 * @param {Fault} fault
 * @param {number} [maxChars]
 * @returns {TextPlan}
 */
export function textPlan(reply, fault, maxChars = Infinity) {
  if (fault.chunks === undefined && fault.chunk_bytes === undefined) {
    const points = Array.from(reply);
    const truncated = points.length > maxChars;
    const text = truncated ? points.slice(0, maxChars).join("") : reply;
    const pieces = text === "" ? [] : splitEven(text, DEFAULT_CHUNKS);
    return { count: pieces.length, totalChars: text.length, truncated, at: (i) => pieces[i] ?? "" };
  }
  const size = Math.max(1, fault.chunk_bytes ?? DEFAULT_CHUNK_BYTES);
  const wanted = fault.chunks ?? DEFAULT_CHUNKS;
  const full = wanted * size;
  const truncated = full > maxChars;
  const totalChars = truncated ? maxChars : full;
  const count = Math.ceil(totalChars / size);
  // ASCII only, so characters == bytes; the reply repeated, read at a rolling offset.
  const pattern = `${reply.replace(/[^\x20-\x7e]/g, "?")} `;
  const window = pattern.repeat(Math.ceil(size / pattern.length) + 1);
  return {
    count,
    totalChars,
    truncated,
    at: (i) => {
      const len = Math.min(size, totalChars - i * size);
      const start = (i * size) % pattern.length;
      return window.slice(start, start + len);
    },
  };
}

/**
 * Joins a whole plan (non-streamed answers).
 * @param {TextPlan} plan
 */
export function planText(plan) {
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i < plan.count; i++) parts.push(plan.at(i));
  return parts.join("");
}

/**
 * A JSON Schema `type` (string or array of strings) to the emulator's fixed value.
 * @param {unknown} schema
 * @returns {unknown}
 */
function valueForSchema(schema) {
  const declared = isObject(schema) ? schema.type : undefined;
  const type = Array.isArray(declared) ? declared.find((t) => t !== "null") : declared;
  switch (type) {
    case "string":
      return "emulated";
    case "number":
    case "integer":
      return 42;
    case "boolean":
      return true;
    default:
      return null;
  }
}

/**
 * Tool call arguments: every property of the parameters schema set by its type.
 * @param {unknown} parameters JSON Schema object (OpenAI `parameters`, Anthropic `input_schema`)
 * @returns {Record<string, unknown>}
 */
export function toolArguments(parameters) {
  /** @type {Record<string, unknown>} */
  const args = {};
  const props = isObject(parameters) && isObject(parameters.properties) ? parameters.properties : {};
  for (const [name, schema] of Object.entries(props)) args[name] = valueForSchema(schema);
  return args;
}

/**
 * Splits a JSON string into at least 2 fragments (3 when long enough), for streamed arguments.
 * @param {string} json
 * @returns {string[]}
 */
export function argumentFragments(json) {
  return splitEven(json, json.length >= 6 ? 3 : 2);
}

/**
 * Counter-based ids, deterministic for one emulator instance.
 * @param {string} prefix
 * @param {number} n
 */
export function makeId(prefix, n) {
  return `${prefix}${String(n).padStart(6, "0")}`;
}

/**
 * How each coding agent's shell tool takes a command: Claude Code's `Bash`, Codex's `exec_command`
 * (and its older `shell`).
 * @type {Record<string, (cmd: string) => Record<string, unknown>>}
 */
const SHELL_TOOLS = {
  Bash: (cmd) => ({ command: cmd, description: "Run the command the user asked for" }),
  exec_command: (cmd) => ({ cmd }),
  shell: (cmd) => ({ command: ["bash", "-lc", cmd] }),
};

/**
 * The trigger phrase that makes the emulator drive an agent's tool loop: a user message containing
 * `run-bash: <command>` (to the end of its line) gets a call to the agent's shell tool with that command,
 * when one is offered. The tool's result then comes back and is answered as text.
 * @param {string} userText the last user message's text
 * @param {string[]} toolNames the names of the tools offered
 * @returns {{ name: string, args: Record<string, unknown> } | null}
 */
export function shellRequest(userText, toolNames) {
  const match = /run-bash:[ \t]*([^\n]+)/.exec(userText);
  const command = match?.[1]?.trim();
  if (!command) return null;
  const name = toolNames.find((n) => Object.hasOwn(SHELL_TOOLS, n));
  const build = name === undefined ? undefined : SHELL_TOOLS[name];
  return name === undefined || build === undefined ? null : { name, args: build(command) };
}
