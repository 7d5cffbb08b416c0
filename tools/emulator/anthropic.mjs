// @ts-check
/**
 * Anthropic-format endpoints as Databricks serves them under /anthropic: messages and count_tokens.
 */
import {
  argumentFragments,
  contentText,
  estimateTokens,
  isObject,
  makeId,
  planText,
  replyText,
  textPlan,
  shellRequest,
  toolArguments,
  toolReplyText,
} from "./content.mjs";
import { withEcho } from "./faults.mjs";
import { sendJson } from "./http.mjs";
import { eventFrame, sseWriter } from "./sse.mjs";
import { anthropicUsage } from "./usage.mjs";

/** @typedef {import("./openai.mjs").HandlerContext} HandlerContext */

/** @type {Record<number, string>} */
const ERROR_TYPES = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/**
 * An Anthropic error body `{type:"error", error:{type, message}}`.
 * @param {number} status
 * @param {string} message
 */
export function anthropicError(status, message) {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return { type: "error", error: { type, message } };
}

/** @param {unknown} block @returns {boolean} */
const isToolResult = (block) => isObject(block) && block.type === "tool_result";

/**
 * Characters of all prompt text: system, text blocks, tool results and tool_use inputs.
 * @param {Record<string, unknown>} body
 * @param {unknown[]} messages
 */
function promptChars(body, messages) {
  let chars = contentText(body.system).length;
  for (const m of messages) {
    if (!isObject(m)) continue;
    chars += contentText(m.content).length;
    if (Array.isArray(m.content)) {
      for (const block of m.content) {
        if (isObject(block) && block.type === "tool_use") chars += JSON.stringify(block.input ?? {}).length;
      }
    }
  }
  return chars;
}

/**
 * The last user turn: its text, and the text of its tool_result blocks (if any).
 * @param {unknown[]} messages
 */
function lastUserTurn(messages) {
  const last = [...messages].reverse().find((m) => isObject(m) && m.role === "user");
  const content = isObject(last) ? last.content : undefined;
  const blocks = Array.isArray(content) ? content : [];
  const results = blocks.filter(isToolResult);
  return {
    text: contentText(Array.isArray(content) ? blocks.filter((b) => !isToolResult(b)) : content),
    toolResults: results.length > 0 ? contentText(results) : null,
  };
}

/**
 * The tool to call, or null: tools offered, tool_choice not "none", no tool_result in the last user turn.
 * @param {Record<string, unknown>} body
 * @param {string | null} toolResults
 * @param {string} userText the last user turn's text, for the shell trigger phrase
 * @returns {{ name: string, schema: unknown, args?: Record<string, unknown> } | null}
 */
function chooseTool(body, toolResults, userText) {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
  const choice = isObject(body.tool_choice) ? body.tool_choice : {};
  if (tools.length === 0 || choice.type === "none" || toolResults !== null) return null;
  const shell = shellRequest(
    userText,
    tools.map((t) => (typeof t.name === "string" ? t.name : "")),
  );
  if (shell) return { name: shell.name, schema: undefined, args: shell.args };
  const named = choice.type === "tool" && typeof choice.name === "string" ? choice.name : undefined;
  const tool = tools.find((t) => named !== undefined && t.name === named) ?? tools[0] ?? {};
  return { name: named ?? (typeof tool.name === "string" ? tool.name : "tool"), schema: tool.input_schema };
}

/**
 * Checks the body; returns an error message or null.
 * @param {unknown} body
 * @param {boolean} needsMaxTokens
 * @returns {string | null}
 */
function invalid(body, needsMaxTokens) {
  if (!isObject(body)) return "request body must be a JSON object";
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return "messages: field required (a non-empty array)";
  }
  if (needsMaxTokens && !(Number.isInteger(body.max_tokens) && Number(body.max_tokens) >= 1)) {
    return "max_tokens: field required (an integer >= 1)";
  }
  return null;
}

/** Betas a strict upstream does not know (newer than it). */
const STRICT_UNKNOWN_BETAS = [/^context-management-/, /^prompt-caching-scope-/];

/**
 * What a strict upstream (fault `strict`) rejects, as Databricks' and some proxies' validation does with
 * features newer than they are; null when there is nothing.
 * @param {Record<string, unknown>} body
 * @param {import("node:http").IncomingHttpHeaders | undefined} headers
 * @returns {string | null}
 */
export function strictProblem(body, headers) {
  const betas = String(headers?.["anthropic-beta"] ?? "")
    .split(",")
    .map((b) => b.trim());
  const unknown = betas.filter((b) => STRICT_UNKNOWN_BETAS.some((re) => re.test(b)));
  if (unknown.length > 0)
    return `Unexpected value(s) \`${unknown.join(", ")}\` for the \`anthropic-beta\` header`;
  if (body.context_management !== undefined) return "context_management: Extra inputs are not permitted";
  /** @type {unknown[]} */
  const stack = [body];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (isObject(v)) {
      if (isObject(v.cache_control) && "scope" in v.cache_control) {
        return "cache_control.scope: Extra inputs are not permitted";
      }
      for (const item of Object.values(v)) stack.push(item);
    }
  }
  return null;
}

/**
 * POST /anthropic/v1/messages
 * @param {HandlerContext} ctx
 */
export async function messages(ctx) {
  const { res, body, fault, signal } = ctx;
  const problem =
    invalid(body, true) ?? (fault.strict && isObject(body) ? strictProblem(body, ctx.headers) : null);
  if (problem !== null || !isObject(body)) {
    return sendJson(res, 400, anthropicError(400, problem ?? "invalid request"));
  }
  const msgs = /** @type {unknown[]} */ (body.messages);
  const id = makeId("msg_emu_", ctx.seq);
  const model = typeof body.model === "string" ? body.model : "emulator-model";
  const headers = { "request-id": makeId("req_emu_", ctx.seq) };
  const input = estimateTokens(promptChars(body, msgs));

  const turn = lastUserTurn(msgs);
  const tool = chooseTool(body, turn.toolResults, turn.text);
  const calls = tool
    ? Array.from({ length: fault.tool_calls ?? 1 }, (_, i) => ({
        type: "tool_use",
        id: `toolu_emu_${i + 1}`,
        name: tool.name,
        input: tool.args ?? toolArguments(tool.schema),
      }))
    : [];
  const reply = turn.toolResults !== null ? toolReplyText(turn.toolResults) : replyText(turn.text);
  const plan = textPlan(tool ? "" : reply, fault, Number(body.max_tokens) * 4);
  const outChars = tool
    ? calls.reduce((n, c) => n + c.name.length + JSON.stringify(c.input).length, 0)
    : plan.totalChars;
  const output = estimateTokens(outChars);
  const stopReason = tool ? "tool_use" : plan.truncated ? "max_tokens" : "end_turn";
  const usage = anthropicUsage(input, output, fault);

  if (body.stream !== true) {
    return sendJson(
      res,
      200,
      {
        id,
        type: "message",
        role: "assistant",
        model,
        content: tool ? calls : [{ type: "text", text: planText(plan) }],
        stop_reason: stopReason,
        stop_sequence: null,
        ...(fault.no_usage ? {} : { usage }),
      },
      headers,
    );
  }

  const sse = sseWriter(
    res,
    signal,
    fault,
    () => eventFrame("error", anthropicError(529, withEcho("emulator: injected mid-stream failure", fault))),
    headers,
  );
  /** @param {string} type @param {Record<string, unknown>} [data] */
  const send = (type, data = {}) => sse.send(eventFrame(type, { type, ...data }));

  const startUsage = fault.no_usage ? {} : { usage: { ...usage, output_tokens: 1 } };
  const message = { id, type: "message", role: "assistant", model, content: [] };
  const start = { ...message, stop_reason: null, stop_sequence: null, ...startUsage };
  if (!(await send("message_start", { message: start }))) return;
  if (!(await send("ping"))) return;

  if (tool) {
    for (let index = 0; index < calls.length; index++) {
      const call = /** @type {(typeof calls)[number]} */ (calls[index]);
      if (!(await send("content_block_start", { index, content_block: { ...call, input: {} } }))) return;
      for (const partial_json of argumentFragments(JSON.stringify(call.input))) {
        const delta = { type: "input_json_delta", partial_json };
        if (!(await send("content_block_delta", { index, delta }))) return;
      }
      if (!(await send("content_block_stop", { index }))) return;
    }
  } else {
    if (!(await send("content_block_start", { index: 0, content_block: { type: "text", text: "" } }))) return;
    for (let i = 0; i < plan.count; i++) {
      const delta = { type: "text_delta", text: plan.at(i) };
      if (!(await send("content_block_delta", { index: 0, delta }))) return;
    }
    if (!(await send("content_block_stop", { index: 0 }))) return;
  }
  const endUsage = fault.no_usage ? {} : { usage: { output_tokens: usage.output_tokens } };
  if (
    !(await send("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, ...endUsage }))
  ) {
    return;
  }
  if (!(await send("message_stop"))) return;
  await sse.end();
}

/**
 * POST /anthropic/v1/messages/count_tokens
 * @param {HandlerContext} ctx
 */
export async function countTokens(ctx) {
  const { res, body, fault } = ctx;
  const problem =
    invalid(body, false) ?? (fault.strict && isObject(body) ? strictProblem(body, ctx.headers) : null);
  if (problem !== null || !isObject(body)) {
    return sendJson(res, 400, anthropicError(400, problem ?? "invalid request"));
  }
  const msgs = /** @type {unknown[]} */ (body.messages);
  sendJson(res, 200, { input_tokens: estimateTokens(promptChars(body, msgs)) });
}
