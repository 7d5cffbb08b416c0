// @ts-check
/**
 * OpenAI-format endpoints as Databricks serves them under /mlflow: chat completions and embeddings.
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
import { dataFrame, sseWriter } from "./sse.mjs";
import { openaiUsage } from "./usage.mjs";

/** @typedef {import("./faults.mjs").Fault} Fault */
/**
 * What the router hands an endpoint handler.
 * @typedef {object} HandlerContext
 * @property {import("node:http").ServerResponse} res
 * @property {unknown} body parsed JSON body
 * @property {Fault} fault
 * @property {AbortSignal} signal aborts when the client goes away
 * @property {number} seq per-emulator request number (ids are derived from it)
 * @property {URL} url
 * @property {import("node:http").IncomingHttpHeaders} [headers] the request's headers
 */

/** @type {Record<number, [string, string | null]>} */
const ERROR_TYPES = {
  400: ["invalid_request_error", null],
  401: ["authentication_error", "invalid_api_key"],
  403: ["permission_error", null],
  404: ["not_found_error", null],
  408: ["timeout", null],
  413: ["request_too_large", null],
  429: ["rate_limit_error", "rate_limit_exceeded"],
};

/**
 * An OpenAI error body `{error:{message,type,param,code}}`.
 * @param {number} status
 * @param {string} message
 * @param {string | null} [param]
 */
export function openaiError(status, message, param = null) {
  const [type, code] = ERROR_TYPES[status] ?? (status >= 500 ? ["server_error", null] : ["api_error", null]);
  return { error: { message, type, param, code } };
}

/**
 * Characters of all message text: string content, text parts, and tool call arguments.
 * @param {unknown[]} messages
 */
function promptChars(messages) {
  let chars = 0;
  for (const m of messages) {
    if (!isObject(m)) continue;
    chars += contentText(m.content).length;
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        if (isObject(call) && isObject(call.function) && typeof call.function.arguments === "string") {
          chars += call.function.arguments.length;
        }
      }
    }
  }
  return chars;
}

/**
 * The tool results answering the last assistant turn (a user message may follow them, as when a
 * translated Anthropic turn carries tool results and text together).
 * @param {unknown[]} messages
 * @returns {string[]}
 */
function latestToolResults(messages) {
  /** @type {string[]} */
  const results = [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isObject(m) || m.role === "assistant") break;
    if (m.role === "tool") results.unshift(contentText(m.content));
  }
  return results;
}

/**
 * The tool to call, or null when the answer is text: tools offered, tool_choice not "none", and the
 * last assistant turn has not been answered with tool results.
 * @param {Record<string, unknown>} body
 * @param {unknown[]} messages
 * @returns {{ name: string, parameters: unknown, args?: Record<string, unknown> } | null}
 */
function chooseTool(body, messages) {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
  if (tools.length === 0 || body.tool_choice === "none") return null;
  if (latestToolResults(messages).length > 0) return null;
  const lastUser = [...messages].reverse().find((m) => isObject(m) && m.role === "user");
  const names = tools.map((t) =>
    isObject(t.function) && typeof t.function.name === "string" ? t.function.name : "",
  );
  const shell = shellRequest(isObject(lastUser) ? contentText(lastUser.content) : "", names);
  if (shell) return { name: shell.name, parameters: undefined, args: shell.args };
  const choice = body.tool_choice;
  const named =
    isObject(choice) && isObject(choice.function) && typeof choice.function.name === "string"
      ? choice.function.name
      : undefined;
  const fns = tools.map((t) => (isObject(t.function) ? t.function : {}));
  const fn = fns.find((f) => named !== undefined && f.name === named) ?? fns[0] ?? {};
  return { name: named ?? (typeof fn.name === "string" ? fn.name : "tool"), parameters: fn.parameters };
}

/**
 * The reply text for a conversation: mention the latest tool results, else echo the last user message.
 * @param {unknown[]} messages
 */
function replyFor(messages) {
  const toolResults = latestToolResults(messages);
  if (toolResults.length > 0) return toolReplyText(toolResults.join(" "));
  const lastUser = [...messages].reverse().find((m) => isObject(m) && m.role === "user");
  return replyText(isObject(lastUser) ? contentText(lastUser.content) : "");
}

/**
 * POST /mlflow/v1/chat/completions
 * @param {HandlerContext} ctx
 */
export async function chatCompletions(ctx) {
  const { res, body, fault, signal } = ctx;
  if (!isObject(body) || !Array.isArray(body.messages) || body.messages.length === 0) {
    return sendJson(res, 400, openaiError(400, "messages must be a non-empty array", "messages"));
  }
  const messages = body.messages;
  const id = makeId("chatcmpl-emu-", ctx.seq);
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === "string" ? body.model : "emulator-model";
  const headers = { "x-request-id": makeId("req_emu_", ctx.seq) };
  const maxTokens = Number(body.max_completion_tokens ?? body.max_tokens);
  const maxChars = Number.isInteger(maxTokens) && maxTokens >= 0 ? maxTokens * 4 : Infinity;
  const prompt = estimateTokens(promptChars(messages));

  const tool = chooseTool(body, messages);
  const calls = tool
    ? Array.from({ length: fault.tool_calls ?? 1 }, (_, i) => ({
        id: `call_${i + 1}`,
        type: "function",
        function: { name: tool.name, arguments: JSON.stringify(tool.args ?? toolArguments(tool.parameters)) },
      }))
    : [];
  const plan = textPlan(tool ? "" : replyFor(messages), fault, maxChars);
  const outChars = tool
    ? calls.reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0)
    : plan.totalChars;
  const finishReason = tool ? "tool_calls" : plan.truncated ? "length" : "stop";
  const completion = estimateTokens(outChars);
  const usage = fault.no_usage ? undefined : openaiUsage(prompt, completion, fault);

  if (body.stream !== true) {
    const message = tool
      ? { role: "assistant", content: null, refusal: null, tool_calls: calls }
      : { role: "assistant", content: planText(plan), refusal: null };
    return sendJson(
      res,
      200,
      {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      },
      headers,
    );
  }

  const includeUsage =
    !fault.no_usage && isObject(body.stream_options) && body.stream_options.include_usage === true;
  const sse = sseWriter(
    res,
    signal,
    fault,
    () => dataFrame(openaiError(500, withEcho("emulator: injected mid-stream failure", fault))),
    headers,
  );
  /** @param {Record<string, unknown>} delta @param {string | null} [finish] */
  const chunk = (delta, finish = null) =>
    dataFrame({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });

  if (!(await sse.send(chunk({ role: "assistant", content: tool ? null : "" })))) return;
  if (tool) {
    const fragments = calls.map((c) => argumentFragments(c.function.arguments));
    const rounds = 1 + Math.max(...fragments.map((f) => f.length));
    // Round 0 opens every call; later rounds interleave argument fragments of the different indices.
    for (let r = 0; r < rounds; r++) {
      for (let index = 0; index < calls.length; index++) {
        const call = /** @type {(typeof calls)[number]} */ (calls[index]);
        const fragment = r === 0 ? undefined : fragments[index]?.[r - 1];
        if (r > 0 && fragment === undefined) continue;
        const delta =
          r === 0
            ? { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }
            : { index, function: { arguments: fragment } };
        if (!(await sse.send(chunk({ tool_calls: [delta] })))) return;
      }
    }
  } else {
    for (let i = 0; i < plan.count; i++) {
      if (!(await sse.send(chunk({ content: plan.at(i) })))) return;
    }
  }
  if (!(await sse.send(chunk({}, finishReason)))) return;
  if (includeUsage) {
    const frame = dataFrame({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    if (!(await sse.send(frame))) return;
  }
  if (!(await sse.send(dataFrame("[DONE]")))) return;
  await sse.end();
}

/**
 * A deterministic unit vector for a text: FNV-1a hashes of (text, dimension).
 * @param {string} text
 * @param {number} dims
 * @returns {number[]}
 */
export function embed(text, dims) {
  const raw = [];
  for (let d = 0; d < dims; d++) {
    let h = 0x811c9dc5;
    const s = `${d}:${text}`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    // murmur3's finalizer, so texts that differ in one character get unrelated vectors.
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
    raw.push(h / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...raw) || 1;
  return raw.map((x) => x / norm);
}

/**
 * POST /mlflow/v1/embeddings (always floats, as Databricks returns them).
 * @param {HandlerContext} ctx
 */
export async function embeddings(ctx) {
  const { res, body, fault } = ctx;
  const input = isObject(body) ? body.input : undefined;
  const inputs = typeof input === "string" ? [input] : Array.isArray(input) ? input : null;
  if (!isObject(body) || inputs === null || inputs.length === 0) {
    return sendJson(res, 400, openaiError(400, "input must be a string or a non-empty array", "input"));
  }
  const wanted = Number(body.dimensions);
  const dims = Number.isInteger(wanted) && wanted > 0 ? Math.min(wanted, 8192) : 8;
  const texts = inputs.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
  const tokens = estimateTokens(texts.reduce((n, t) => n + t.length, 0));
  sendJson(
    res,
    200,
    {
      object: "list",
      data: texts.map((t, index) => ({ object: "embedding", index, embedding: embed(t, dims) })),
      model: typeof body.model === "string" ? body.model : "emulator-embedding",
      ...(fault.no_usage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
    },
    { "x-request-id": makeId("req_emu_", ctx.seq) },
  );
}
