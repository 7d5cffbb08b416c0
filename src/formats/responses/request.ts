import { fail, invalid } from "../translate/mapping";
import type { OaiContentPartOut, OaiMessageOut, OaiToolCallOut, Result } from "../translate/types";
import type { ClientTool, ToolNames } from "./tool-names";
import { convertToolChoice, convertTools, type ChatToolOut, type DeclaredTool } from "./tools";
import {
  AdditionalToolsItemIn,
  ContentPart,
  CustomToolCallItemIn,
  CustomToolCallOutputItemIn,
  FunctionCallItemIn,
  FunctionCallOutputItemIn,
  MessageItemIn,
  ResponsesRequest,
  TextFormatIn,
  type ResponseEcho,
} from "./types";
import { prefixed } from "./validation";

export type { ChatToolOut } from "./tools";

/**
 * Responses API request → Chat Completions request. Anthropic providers get it one step further with the
 * existing `chatRequestToMessages`, so both provider formats share one reading of the Responses input.
 *
 * The rule for what has no equivalent: what only tunes the call is dropped silently (`store`, `include`,
 * `prompt_cache_key`, `client_metadata`, `reasoning.summary`, `service_tier`, `reasoning` items); what
 * takes a capability away is dropped and named in `dropped` (hosted tools such as `web_search`, history
 * items of types the gateway cannot replay, content parts it cannot read); a 400 only where going on
 * without the field would silently change what the answer means (stored state such as
 * `previous_response_id`, `item_reference` items, roles the gateway cannot place, files by reference,
 * forcing a tool that is not there). The details per field are in this folder's README.
 */

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
  verbosity?: string;
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

const ok = (): Result<null> => ({ ok: true, value: null });

const typeOf = (raw: object): string =>
  "type" in raw && typeof raw.type === "string" ? raw.type : "message";

/** The conversion's state: messages so far, what was dropped, tool-output images waiting for their turn. */
type Converted = {
  messages: OaiMessageOut[];
  dropped: string[];
  /** Images returned by tool calls; chat `tool` messages hold text only, so they follow as a user turn. */
  images: OaiContentPartOut[];
  names: ToolNames;
};

/** Text of parts that may only hold text (system prompts, assistant turns); unreadable parts are dropped. */
function partsToText(out: Converted, parts: ContentPart[], path: string, what: string): Result<string> {
  let text = "";
  for (const [i, part] of parts.entries()) {
    if (part.type === "input_text" || part.type === "output_text" || part.type === "text") text += part.text;
    else if (part.type === "refusal") text += part.refusal;
    else if (part.type === "other") out.dropped.push(`content:${part.part_type}`);
    else return fail(`${path}[${i}]: ${what} can only hold text, not ${part.type}`, `${path}[${i}]`);
  }
  return { ok: true, value: text };
}

function imagePart(
  part: Extract<ContentPart, { type: "input_image" }>,
  at: string,
): Result<OaiContentPartOut> {
  if (!part.image_url) return fail(`${at}: images by file_id are not supported; send image_url`, at);
  return { ok: true, value: { type: "image_url", image_url: { url: part.image_url } } };
}

function partsToUserContent(out: Converted, parts: ContentPart[], path: string): Result<OaiContentPartOut[]> {
  const content: OaiContentPartOut[] = [];
  for (const [i, part] of parts.entries()) {
    const at = `${path}[${i}]`;
    switch (part.type) {
      case "input_text":
      case "output_text":
      case "text":
        content.push({ type: "text", text: part.text });
        break;
      case "refusal":
        content.push({ type: "text", text: part.refusal });
        break;
      case "input_image": {
        const image = imagePart(part, at);
        if (!image.ok) return image;
        content.push(image.value);
        break;
      }
      case "input_file":
        if (!part.file_data) {
          return fail(`${at}: files by file_id or file_url are not supported; send file_data`, at);
        }
        content.push({
          type: "file",
          file: part.filename
            ? { file_data: part.file_data, filename: part.filename }
            : { file_data: part.file_data },
        });
        break;
      case "other":
        out.dropped.push(`content:${part.part_type}`);
        break;
    }
  }
  return { ok: true, value: content };
}

/** A tool's output: its text for the `tool` message; its images wait for the user turn that follows. */
function toolOutput(out: Converted, output: string | ContentPart[], path: string): Result<string> {
  if (typeof output === "string") return { ok: true, value: output };
  let text = "";
  let images = 0;
  for (const [i, part] of output.entries()) {
    if (part.type === "input_image") {
      const image = imagePart(part, `${path}[${i}]`);
      if (!image.ok) return image;
      out.images.push(image.value);
      images += 1;
      continue;
    }
    const piece = partsToText(out, [part], path, "function call outputs");
    if (!piece.ok) return fail(piece.message.replace(`${path}[0]`, `${path}[${i}]`), `${path}[${i}]`);
    text += piece.value;
  }
  if (images > 0) text += `${text ? "\n" : ""}[${images} image${images > 1 ? "s" : ""} in the next message]`;
  return { ok: true, value: text };
}

/** Tool-output images go right after the run of tool messages that returned them. */
function flushImages(out: Converted): void {
  if (out.images.length === 0) return;
  out.messages.push({
    role: "user",
    content: [{ type: "text", text: "Images returned by the tool calls above:" }, ...out.images],
  });
  out.images = [];
}

/** A call joins the assistant turn it belongs to (or starts one). */
function addCall(out: Converted, call: OaiToolCallOut): void {
  const last = out.messages.at(-1);
  if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
  else out.messages.push({ role: "assistant", content: null, tool_calls: [call] });
}

/** Adds one input item to the chat messages so far. */
function addItem(out: Converted, raw: unknown, path: string): Result<null> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail(`${path}: expected an input item object`, path);
  }
  const type = typeOf(raw);
  if (type !== "function_call_output" && type !== "custom_tool_call_output") flushImages(out);
  switch (type) {
    case "message": {
      const parsed = MessageItemIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const { role, content } = parsed.data;
      if (role === "system" || role === "developer") {
        const text =
          typeof content === "string"
            ? { ok: true as const, value: content }
            : partsToText(out, content, `${path}.content`, "system messages");
        if (!text.ok) return text;
        out.messages.push({ role: "system", content: text.value });
        return ok();
      }
      if (role === "user") {
        if (typeof content === "string") {
          out.messages.push({ role: "user", content });
          return ok();
        }
        const parts = partsToUserContent(out, content, `${path}.content`);
        if (!parts.ok) return parts;
        out.messages.push({ role: "user", content: parts.value });
        return ok();
      }
      const text =
        typeof content === "string"
          ? { ok: true as const, value: content }
          : partsToText(out, content, `${path}.content`, "assistant messages");
      if (!text.ok) return text;
      // Consecutive assistant items (text, then its function calls) are one chat turn.
      const last = out.messages.at(-1);
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
      const { call_id, name, namespace, arguments: args } = parsed.data;
      const wire = out.names.add(clientTool("function", name, namespace));
      addCall(out, { id: call_id, type: "function", function: { name: wire, arguments: args } });
      return ok();
    }
    case "custom_tool_call": {
      const parsed = CustomToolCallItemIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const { call_id, name, namespace, input } = parsed.data;
      const wire = out.names.add(clientTool("custom", name, namespace));
      addCall(out, {
        id: call_id,
        type: "function",
        function: { name: wire, arguments: JSON.stringify({ input }) },
      });
      return ok();
    }
    case "function_call_output":
    case "custom_tool_call_output": {
      const parsed = (
        type === "function_call_output" ? FunctionCallOutputItemIn : CustomToolCallOutputItemIn
      ).safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      const text = toolOutput(out, parsed.data.output, `${path}.output`);
      if (!text.ok) return text;
      out.messages.push({ role: "tool", tool_call_id: parsed.data.call_id, content: text.value });
      return ok();
    }
    case "reasoning":
      // Encrypted or summarised reasoning of an earlier turn: no other provider can use it, and the
      // answer does not depend on it.
      return ok();
    case "additional_tools":
      // Its tools were read with the request's tools.
      return ok();
    case "item_reference":
      return fail(
        `${path}.type: input items of type 'item_reference' are not supported: they point at stored responses, which this gateway does not keep`,
        `${path}.type`,
      );
    default:
      // Records of what a provider ran itself (web_search_call, image_generation_call, ...), compaction
      // items and types newer than this code: nothing to replay them as.
      out.dropped.push(`input:${type}`);
      return ok();
  }
}

function clientTool(
  kind: ClientTool["kind"],
  name: string,
  namespace: string | null | undefined,
): ClientTool {
  return namespace == null ? { name, kind } : { name, namespace, kind };
}

/** Tools declared in `tools` and in `additional_tools` input items, and the tools earlier calls used. */
function toolsOf(req: ResponsesRequest): { declared: DeclaredTool[]; history: ClientTool[] } {
  const declared: DeclaredTool[] = (req.tools ?? []).map((raw, i) => ({ raw, path: `tools[${i}]` }));
  const history: ClientTool[] = [];
  if (typeof req.input === "string") return { declared, history };
  for (const [i, item] of req.input.entries()) {
    const extra = AdditionalToolsItemIn.safeParse(item);
    if (extra.success) {
      for (const [j, raw] of extra.data.tools.entries())
        declared.push({ raw, path: `input[${i}].tools[${j}]` });
      continue;
    }
    const call = FunctionCallItemIn.safeParse(item);
    if (call.success) history.push(clientTool("function", call.data.name, call.data.namespace));
    const custom = CustomToolCallItemIn.safeParse(item);
    if (custom.success) history.push(clientTool("custom", custom.data.name, custom.data.namespace));
  }
  return { declared, history };
}

export interface ResponsesToChatOptions {
  /** The upstream model name; defaults to the request's own `model`. */
  model?: string;
  /**
   * For a request that generates nothing (`generate: false`, Codex's warm-up, which holds only its
   * instructions): no user turn is required, since the request never goes upstream.
   */
  warmup?: boolean;
}

export interface TranslatedResponsesRequest {
  chat: ChatFromResponses;
  /** How the tools are named upstream; the answer's calls are mapped back through it. */
  names: ToolNames;
}

/**
 * The whole translation: the chat request, the tool names it used, and in `dropped` what was left out
 * because a capability has no equivalent (hosted tools, unreadable items and parts).
 */
export function translateResponsesRequest(
  input: unknown,
  opts: ResponsesToChatOptions = {},
): Result<TranslatedResponsesRequest> {
  const parsed = ResponsesRequest.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "request");
  const req = parsed.data;
  const stateful = statefulField(req);
  if (stateful) return fail(stateful.message, stateful.param);

  const { declared, history } = toolsOf(req);
  const tools = convertTools(declared, history);
  if (!tools.ok) return tools;

  const converted: Converted = {
    messages: [],
    dropped: [...tools.value.dropped],
    images: [],
    names: tools.value.names,
  };
  if (req.instructions) converted.messages.push({ role: "system", content: req.instructions });
  if (typeof req.input === "string") {
    converted.messages.push({ role: "user", content: req.input });
  } else {
    for (const [i, item] of req.input.entries()) {
      const added = addItem(converted, item, `input[${i}]`);
      if (!added.ok) return added;
    }
    flushImages(converted);
  }
  if (!opts.warmup && !converted.messages.some((m) => m.role !== "system")) {
    return fail("input must contain at least one message, function call or function call output", "input");
  }

  const out: ChatFromResponses = { model: opts.model ?? req.model ?? "", messages: converted.messages };
  if (req.max_output_tokens != null) out.max_tokens = req.max_output_tokens;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.stream != null) out.stream = req.stream;
  if (req.user != null && req.user !== "") out.user = req.user;
  if (req.parallel_tool_calls != null) out.parallel_tool_calls = req.parallel_tool_calls;

  let chatTools = tools.value.tools;
  if (req.tool_choice !== undefined && req.tool_choice !== null) {
    const choice = convertToolChoice(req.tool_choice, tools.value);
    if (!choice.ok) return choice;
    out.tool_choice = choice.value.choice;
    chatTools = choice.value.tools;
  }
  if (chatTools.length > 0) out.tools = chatTools;
  else if (out.tool_choice === "required") {
    // Demanding a tool call when no tool is left would be answered with plain text instead.
    return fail(
      "tool_choice 'required' needs a tool, and none of the tools offered is one this gateway can pass on",
      "tool_choice",
    );
  } else delete out.tool_choice;

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
  if (req.text?.verbosity != null) out.verbosity = req.text.verbosity;
  if (req.reasoning?.effort != null) out.reasoning_effort = req.reasoning.effort;
  const dropped = [...new Set(converted.dropped)];
  return { ok: true, value: { chat: out, names: tools.value.names }, ...(dropped.length > 0 && { dropped }) };
}

/** The chat request alone (see `translateResponsesRequest`). */
export function responsesRequestToChat(
  input: unknown,
  opts: ResponsesToChatOptions = {},
): Result<ChatFromResponses> {
  const r = translateResponsesRequest(input, opts);
  if (!r.ok) return r;
  return { ok: true, value: r.value.chat, ...(r.dropped && { dropped: r.dropped }) };
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
