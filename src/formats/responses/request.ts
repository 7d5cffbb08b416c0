import { fail, invalid } from "../translate/mapping";
import type { OaiContentPartOut, OaiMessageOut, OaiToolCallOut, Result } from "../translate/types";
import {
  ContentPart,
  FunctionCallItemIn,
  FunctionCallOutputItemIn,
  FunctionToolIn,
  MessageItemIn,
  ResponsesRequest,
  TextFormatIn,
  ToolChoiceIn,
  type ResponseEcho,
} from "./types";

/**
 * Responses API request → Chat Completions request. Anthropic providers get it one step further with the
 * existing `chatRequestToMessages`, so both provider formats share one reading of the Responses input.
 *
 * The gateway is stateless: anything that refers to stored state (`previous_response_id`, `conversation`,
 * `item_reference` items, stored prompts, `background`) is refused with a message naming the field.
 * Reasoning items in the history are dropped (their encrypted content means nothing to another
 * provider); hosted tools (web search, file search, shell, computer use, custom tools) are refused.
 */

export interface ChatToolOut {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

export type ChatResponseFormatOut =
  | { type: "json_object" }
  | {
      type: "json_schema";
      json_schema: { name: string; schema: Record<string, unknown>; description?: string; strict?: boolean };
    };

export interface ChatFromResponses {
  model: string;
  messages: OaiMessageOut[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stream?: boolean;
  user?: string;
  tools?: ChatToolOut[];
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?: ChatResponseFormatOut;
  reasoning_effort?: string;
}

/** The first field that needs server-side state, with the reason; null for a stateless request. */
export function statefulField(input: Record<string, unknown>): { param: string; message: string } | null {
  if (input.previous_response_id != null) {
    return {
      param: "previous_response_id",
      message:
        "previous_response_id is not supported: this gateway stores no responses. Send the whole conversation in `input` (Codex CLI and the SDKs do so with store: false).",
    };
  }
  if (input.conversation != null) {
    return { param: "conversation", message: "conversation is not supported: this gateway stores no state." };
  }
  if (input.prompt != null) {
    return {
      param: "prompt",
      message: "stored prompts are not supported: send instructions and input instead.",
    };
  }
  if (input.background === true) {
    return {
      param: "background",
      message: "background responses are not supported: this gateway stores no state.",
    };
  }
  return null;
}

const STATELESS_ITEMS: Record<string, string> = {
  item_reference: "item references need stored responses, which this gateway does not keep",
};

function partsToUserContent(parts: ContentPart[], path: string): Result<OaiContentPartOut[]> {
  const out: OaiContentPartOut[] = [];
  for (const [i, part] of parts.entries()) {
    const at = `${path}[${i}]`;
    switch (part.type) {
      case "input_text":
      case "output_text":
        out.push({ type: "text", text: part.text });
        break;
      case "refusal":
        out.push({ type: "text", text: part.refusal });
        break;
      case "input_image":
        if (!part.image_url) return fail(`${at}: images by file_id are not supported; send image_url`, at);
        out.push({ type: "image_url", image_url: { url: part.image_url } });
        break;
      case "input_file":
        if (!part.file_data) {
          return fail(`${at}: files by file_id or file_url are not supported; send file_data`, at);
        }
        out.push({
          type: "file",
          file: part.filename
            ? { file_data: part.file_data, filename: part.filename }
            : { file_data: part.file_data },
        });
        break;
    }
  }
  return { ok: true, value: out };
}

/** Text of parts that may only hold text (system prompts, assistant turns, tool outputs). */
function partsToText(parts: ContentPart[], path: string, what: string): Result<string> {
  let text = "";
  for (const [i, part] of parts.entries()) {
    if (part.type === "input_text" || part.type === "output_text") text += part.text;
    else if (part.type === "refusal") text += part.refusal;
    else return fail(`${path}[${i}]: ${what} can only hold text, not ${part.type}`, `${path}[${i}]`);
  }
  return { ok: true, value: text };
}

type Converted = { messages: OaiMessageOut[] };

/** Adds one input item to the chat messages so far. */
function addItem(out: Converted, raw: unknown, path: string): Result<null> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail(`${path}: expected an input item object`, path);
  }
  const type = "type" in raw && typeof raw.type === "string" ? raw.type : "message";
  const last = out.messages.at(-1);
  switch (type) {
    case "message": {
      const parsed = MessageItemIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const { role, content } = parsed.data;
      if (role === "system" || role === "developer") {
        const text =
          typeof content === "string"
            ? { ok: true as const, value: content }
            : partsToText(content, `${path}.content`, "system messages");
        if (!text.ok) return text;
        out.messages.push({ role: "system", content: text.value });
        return ok();
      }
      if (role === "user") {
        if (typeof content === "string") {
          out.messages.push({ role: "user", content });
          return ok();
        }
        const parts = partsToUserContent(content, `${path}.content`);
        if (!parts.ok) return parts;
        out.messages.push({ role: "user", content: parts.value });
        return ok();
      }
      const text =
        typeof content === "string"
          ? { ok: true as const, value: content }
          : partsToText(content, `${path}.content`, "assistant messages");
      if (!text.ok) return text;
      // Consecutive assistant items (text, then its function calls) are one chat turn.
      if (last?.role === "assistant") {
        last.content = typeof last.content === "string" ? last.content + text.value : text.value;
      } else {
        out.messages.push({ role: "assistant", content: text.value });
      }
      return ok();
    }
    case "function_call": {
      const parsed = FunctionCallItemIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const call: OaiToolCallOut = {
        id: parsed.data.call_id,
        type: "function",
        function: { name: parsed.data.name, arguments: parsed.data.arguments },
      };
      if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
      else out.messages.push({ role: "assistant", content: null, tool_calls: [call] });
      return ok();
    }
    case "function_call_output": {
      const parsed = FunctionCallOutputItemIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const { call_id, output } = parsed.data;
      const text =
        typeof output === "string"
          ? { ok: true as const, value: output }
          : partsToText(output, `${path}.output`, "function call outputs");
      if (!text.ok) return text;
      out.messages.push({ role: "tool", tool_call_id: call_id, content: text.value });
      return ok();
    }
    case "reasoning":
      // Encrypted or summarised reasoning of an earlier turn: no other provider can use it.
      return ok();
    default: {
      const why =
        STATELESS_ITEMS[type] ?? "the gateway translates only messages, function calls and their outputs";
      return fail(`${path}.type: input items of type '${type}' are not supported: ${why}`, `${path}.type`);
    }
  }
}

const ok = (): Result<null> => ({ ok: true, value: null });

/** A validation failure inside `path` (an input item or a tool), with the full path as `param`. */
function prefixed<T>(error: Parameters<typeof invalid>[0], path: string): Result<T> {
  const r = invalid<T>(error, "item");
  if (r.ok) return fail("invalid item", path);
  // invalid() writes "<param>: <message>" whenever it has a param.
  const message = r.param ? r.message.slice(r.param.length + 2) : r.message;
  const param = r.param ? `${path}${r.param.startsWith("[") ? "" : "."}${r.param}` : path;
  return fail(`${param}: ${message}`, param);
}

function convertTools(tools: unknown[]): Result<ChatToolOut[]> {
  const out: ChatToolOut[] = [];
  for (const [i, raw] of tools.entries()) {
    const type = typeof raw === "object" && raw !== null && "type" in raw ? raw.type : undefined;
    if (type !== "function") {
      return fail(
        `tools[${i}].type: tools of type '${String(type)}' are not supported; only function tools are`,
        `tools[${i}].type`,
      );
    }
    const parsed = FunctionToolIn.safeParse(raw);
    if (!parsed.success) return prefixed(parsed.error, `tools[${i}]`);
    const t = parsed.data;
    const fn: ChatToolOut["function"] = {
      name: t.name,
      parameters: t.parameters ?? { type: "object", properties: {} },
    };
    if (t.description != null) fn.description = t.description;
    if (t.strict != null) fn.strict = t.strict;
    out.push({ type: "function", function: fn });
  }
  return { ok: true, value: out };
}

export interface ResponsesToChatOptions {
  /** The upstream model name; defaults to the request's own `model`. */
  model?: string;
}

export function responsesRequestToChat(
  input: unknown,
  opts: ResponsesToChatOptions = {},
): Result<ChatFromResponses> {
  const parsed = ResponsesRequest.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "request");
  const req = parsed.data;
  const stateful = statefulField(req);
  if (stateful) return fail(stateful.message, stateful.param);

  const converted: Converted = { messages: [] };
  if (req.instructions) converted.messages.push({ role: "system", content: req.instructions });
  if (typeof req.input === "string") {
    converted.messages.push({ role: "user", content: req.input });
  } else {
    for (const [i, item] of req.input.entries()) {
      const added = addItem(converted, item, `input[${i}]`);
      if (!added.ok) return added;
    }
  }
  if (!converted.messages.some((m) => m.role !== "system")) {
    return fail("input must contain at least one message, function call or function call output", "input");
  }

  const out: ChatFromResponses = { model: opts.model ?? req.model ?? "", messages: converted.messages };
  if (req.max_output_tokens != null) out.max_tokens = req.max_output_tokens;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.stream != null) out.stream = req.stream;
  if (req.user != null && req.user !== "") out.user = req.user;
  if (req.parallel_tool_calls != null) out.parallel_tool_calls = req.parallel_tool_calls;

  if (req.tools && req.tools.length > 0) {
    const tools = convertTools(req.tools);
    if (!tools.ok) return tools;
    out.tools = tools.value;
  }
  if (req.tool_choice !== undefined && req.tool_choice !== null) {
    const choice = ToolChoiceIn.safeParse(req.tool_choice);
    if (!choice.success) {
      return fail(
        "tool_choice: only 'none', 'auto', 'required' or {type: 'function', name} are supported",
        "tool_choice",
      );
    }
    out.tool_choice =
      typeof choice.data === "string"
        ? choice.data
        : { type: "function", function: { name: choice.data.name } };
  }
  if (req.text?.format != null) {
    const format = TextFormatIn.safeParse(req.text.format);
    if (!format.success)
      return fail("text.format: expected type 'text', 'json_object' or 'json_schema'", "text.format");
    const f = format.data;
    if (f.type === "json_object") out.response_format = { type: "json_object" };
    else if (f.type === "json_schema") {
      const schema: Extract<ChatResponseFormatOut, { type: "json_schema" }>["json_schema"] = {
        name: f.name,
        schema: f.schema,
      };
      if (f.description != null) schema.description = f.description;
      if (f.strict != null) schema.strict = f.strict;
      out.response_format = { type: "json_schema", json_schema: schema };
    }
  }
  if (req.reasoning?.effort != null) out.reasoning_effort = req.reasoning.effort;
  return { ok: true, value: out };
}

/** The request settings echoed in response objects. */
export function responseEcho(input: Record<string, unknown>): ResponseEcho {
  const echo: ResponseEcho = {
    instructions: typeof input.instructions === "string" ? input.instructions : null,
    max_output_tokens: typeof input.max_output_tokens === "number" ? input.max_output_tokens : null,
    parallel_tool_calls: typeof input.parallel_tool_calls === "boolean" ? input.parallel_tool_calls : true,
    temperature: typeof input.temperature === "number" ? input.temperature : null,
    top_p: typeof input.top_p === "number" ? input.top_p : null,
    tool_choice: input.tool_choice ?? "auto",
    tools: Array.isArray(input.tools) ? input.tools : [],
    text: input.text ?? { format: { type: "text" } },
    reasoning: input.reasoning ?? null,
    metadata:
      typeof input.metadata === "object" && input.metadata !== null && !Array.isArray(input.metadata)
        ? (input.metadata as Record<string, unknown>)
        : {},
  };
  if (typeof input.user === "string") echo.user = input.user;
  return echo;
}

/** Characters of prompt text (instructions, message text, call arguments, tool outputs), for estimates. */
export function responsesPromptChars(input: Record<string, unknown>): number {
  let chars = typeof input.instructions === "string" ? input.instructions.length : 0;
  const text = (v: unknown): number => {
    if (typeof v === "string") return v.length;
    if (!Array.isArray(v)) return 0;
    let n = 0;
    for (const p of v) {
      if (typeof p === "object" && p !== null && "text" in p && typeof p.text === "string")
        n += p.text.length;
    }
    return n;
  };
  if (typeof input.input === "string") return chars + input.input.length;
  if (!Array.isArray(input.input)) return chars;
  for (const item of input.input) {
    if (typeof item !== "object" || item === null) continue;
    if ("content" in item) chars += text(item.content);
    if ("arguments" in item) chars += text(item.arguments);
    if ("output" in item) chars += text(item.output);
  }
  return chars;
}
