import { fail, invalid } from "./mapping";
import {
  AntMessagesRequest,
  type AntBlockIn,
  type OaiChatRequestOut,
  type OaiContentPartOut,
  type OaiMessageOut,
  type OaiToolCallOut,
  type Result,
} from "./types";

export interface MessagesRequestToChatOptions {
  /** The upstream model name; defaults to the request's own `model`. */
  model?: string;
}

/**
 * Anthropic Messages request → OpenAI Chat Completions request.
 *
 * Dropped, because Chat Completions has no place for them: `cache_control`, `top_k`, `thinking` (and
 * thinking blocks in the history: their signatures only mean something to Anthropic), tool_result
 * `is_error`. Server tools (web search, code execution, ...) and URL documents are rejected.
 */
export function messagesRequestToChat(
  input: unknown,
  opts: MessagesRequestToChatOptions = {},
): Result<OaiChatRequestOut> {
  const parsed = AntMessagesRequest.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "request");
  const req = parsed.data;

  const messages: OaiMessageOut[] = [];
  if (req.system != null) {
    const texts = typeof req.system === "string" ? [req.system] : req.system.map((b) => b.text);
    const content = textContent(texts.filter((t) => t !== ""));
    if (content !== null) messages.push({ role: "system", content });
  }
  for (const [i, message] of req.messages.entries()) {
    const blocks: AntBlockIn[] =
      typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    const converted =
      message.role === "user"
        ? userTurn(blocks, `messages[${i}]`)
        : { ok: true as const, value: assistantTurn(blocks) };
    if (!converted.ok) return converted;
    messages.push(...converted.value);
  }

  const out: OaiChatRequestOut = { model: opts.model ?? req.model ?? "", messages };
  if (req.max_tokens != null) out.max_tokens = req.max_tokens;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  const stops = (req.stop_sequences ?? []).filter((s) => s !== "");
  if (stops.length > 0) out.stop = stops;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.stream) {
    out.stream = true;
    // Anthropic streams always carry usage; OpenAI's only on request, and the gateway meters on it.
    out.stream_options = { include_usage: true };
  } else if (req.stream === false) {
    out.stream = false;
  }

  if (req.tools && req.tools.length > 0) {
    const tools: NonNullable<OaiChatRequestOut["tools"]> = [];
    for (const [i, tool] of req.tools.entries()) {
      if (tool.type != null && tool.type !== "custom") {
        return fail(
          `server tool '${tool.type}' cannot be used with an OpenAI-format provider`,
          `tools[${i}].type`,
        );
      }
      const fn: (typeof tools)[number]["function"] = {
        name: tool.name,
        parameters: tool.input_schema ?? { type: "object", properties: {} },
      };
      if (tool.description != null) fn.description = tool.description;
      tools.push({ type: "function", function: fn });
    }
    out.tools = tools;
  }
  const choice = req.tool_choice;
  if (choice != null && out.tools) {
    if (choice.type === "auto") out.tool_choice = "auto";
    else if (choice.type === "any") out.tool_choice = "required";
    else if (choice.type === "none") out.tool_choice = "none";
    else out.tool_choice = { type: "function", function: { name: choice.name } };
    if (choice.type !== "none" && choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  return { ok: true, value: out };
}

/** One text stays a plain string (what every OpenAI-compatible server accepts); several keep their bounds. */
function textContent(texts: string[]): string | OaiContentPartOut[] | null {
  if (texts.length === 0) return null;
  if (texts.length === 1) return texts[0] ?? "";
  return texts.map((text) => ({ type: "text", text }));
}

/**
 * Chat Completions wants each tool message right after the assistant message that made the call, and a
 * user message after them: so tool_result blocks come out first, as `tool` messages, and everything else
 * in the turn becomes one user message after them. Images inside a tool result cannot ride in a `tool`
 * message, so they move to that user message.
 */
function userTurn(blocks: AntBlockIn[], path: string): Result<OaiMessageOut[]> {
  const toolMessages: OaiMessageOut[] = [];
  const parts: OaiContentPartOut[] = [];
  for (const [j, block] of blocks.entries()) {
    const blockPath = `${path}.content[${j}]`;
    if (block.type === "tool_result") {
      const texts: string[] = [];
      const nested =
        typeof block.content === "string" ? [{ type: "text" as const, text: block.content }] : block.content;
      for (const [k, inner] of (nested ?? []).entries()) {
        if (inner.type === "text") {
          if (inner.text !== "") texts.push(inner.text);
          continue;
        }
        const part = mediaPart(inner, `${blockPath}.content[${k}]`);
        if (!part.ok) return part;
        parts.push(part.value);
      }
      toolMessages.push({ role: "tool", tool_call_id: block.tool_use_id, content: textContent(texts) ?? "" });
      continue;
    }
    if (block.type === "text") {
      if (block.text !== "") parts.push({ type: "text", text: block.text });
      continue;
    }
    if (block.type === "image" || block.type === "document") {
      const part = mediaPart(block, blockPath);
      if (!part.ok) return part;
      parts.push(part.value);
      continue;
    }
    if (block.type === "thinking" || block.type === "redacted_thinking") continue;
    return fail(`a user message cannot contain a '${block.type}' block`, `${blockPath}.type`);
  }
  const out = [...toolMessages];
  if (parts.length > 0) {
    const onlyText = parts.every((p) => p.type === "text");
    const content = onlyText ? textContent(parts.map((p) => (p.type === "text" ? p.text : ""))) : parts;
    if (content !== null) out.push({ role: "user", content });
  }
  return { ok: true, value: out };
}

function assistantTurn(blocks: AntBlockIn[]): OaiMessageOut[] {
  const texts: string[] = [];
  const toolCalls: OaiToolCallOut[] = [];
  for (const block of blocks) {
    if (block.type === "text" && block.text !== "") texts.push(block.text);
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input) },
      });
    }
    // Thinking blocks are dropped (see the module comment); anything else cannot appear in an assistant turn.
  }
  const content = textContent(texts);
  if (content === null && toolCalls.length === 0) return [];
  const message: OaiMessageOut = { role: "assistant", content };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return [message];
}

type MediaBlock = Extract<AntBlockIn, { type: "image" | "document" }>;

function mediaPart(block: MediaBlock, path: string): Result<OaiContentPartOut> {
  if (block.type === "image") {
    const source = block.source;
    const url = source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url;
    return { ok: true, value: { type: "image_url", image_url: { url } } };
  }
  const source = block.source;
  if (source.type === "text") return { ok: true, value: { type: "text", text: source.data } };
  if (source.type === "url") {
    return fail("documents by URL are not supported by OpenAI-format providers", `${path}.source`);
  }
  const file: { file_data: string; filename?: string } = {
    file_data: `data:${source.media_type};base64,${source.data}`,
  };
  if (block.title) file.filename = block.title;
  return { ok: true, value: { type: "file", file } };
}
