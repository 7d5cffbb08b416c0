import { builtInClientTool, fail, invalid, reasoningEffortFor } from "./mapping";
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

/** Names of what a translation left out where a capability disappears, for `x-bricklane-dropped`. */
type Dropped = string[];

/**
 * Anthropic Messages request → OpenAI Chat Completions request. The rules per field are in this folder's
 * README: what has an equivalent is mapped; what only tunes the call (`cache_control`, `context_management`,
 * `top_k`, thinking blocks, metadata beyond `user_id`, ...) is dropped; what takes a capability away
 * (server tools, MCP servers, a container, block types this translator does not know) is dropped and
 * named in the result's `dropped`; what cannot be expressed without changing the question (documents by
 * URL, files by id, a tool_use block in a user turn) is rejected.
 */
export function messagesRequestToChat(
  input: unknown,
  opts: MessagesRequestToChatOptions = {},
): Result<OaiChatRequestOut> {
  const parsed = AntMessagesRequest.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "request");
  const req = parsed.data;
  const dropped: Dropped = [];

  const messages: OaiMessageOut[] = [];
  if (req.system != null) {
    const system = systemMessage(req.system, dropped);
    if (system) messages.push(system);
  }
  for (const [i, message] of req.messages.entries()) {
    if (message.role === "system") {
      // In place: a system message at this point of the conversation is what Chat Completions has too.
      const system = systemMessage(message.content, dropped);
      if (system) messages.push(system);
      continue;
    }
    const blocks: AntBlockIn[] =
      typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    const converted =
      message.role === "user"
        ? userTurn(blocks, `messages[${i}]`, dropped)
        : { ok: true as const, value: assistantTurn(blocks, dropped) };
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
  const effort = reasoningEffortFor(req.thinking, req.output_config);
  if (effort) out.reasoning_effort = effort;
  const format = req.output_config?.format ?? req.output_format;
  if (format?.type === "json_schema" && format.schema) {
    out.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  } else if (format) {
    dropped.push("output_config.format");
  }
  if (req.mcp_servers != null) dropped.push("mcp_servers");
  if (req.container != null) dropped.push("container");

  if (req.tools && req.tools.length > 0) {
    const tools: NonNullable<OaiChatRequestOut["tools"]> = [];
    for (const [i, tool] of req.tools.entries()) {
      const custom = tool.type == null || tool.type === "custom";
      const builtIn = custom ? null : builtInClientTool(tool.type ?? "");
      if (!custom && !builtIn) {
        // Server tools (web search, code execution, MCP toolsets, ...) run at Anthropic; nothing runs them here.
        dropped.push(tool.type ?? "tool");
        continue;
      }
      if (tool.name == null || tool.name === "") return fail("a tool needs a name", `tools[${i}].name`);
      const fn: (typeof tools)[number]["function"] = {
        name: tool.name,
        parameters: builtIn?.parameters ?? tool.input_schema ?? { type: "object", properties: {} },
      };
      const description = tool.description ?? builtIn?.description;
      if (description != null) fn.description = description;
      tools.push({ type: "function", function: fn });
    }
    if (tools.length > 0) out.tools = tools;
  }
  const choice = req.tool_choice;
  if (choice != null && out.tools) {
    const named = choice.type === "tool" ? out.tools.some((t) => t.function.name === choice.name) : true;
    // A choice naming a dropped tool goes with it: the tool is already reported.
    if (named) {
      if (choice.type === "auto") out.tool_choice = "auto";
      else if (choice.type === "any") out.tool_choice = "required";
      else if (choice.type === "none") out.tool_choice = "none";
      else out.tool_choice = { type: "function", function: { name: choice.name } };
      if (choice.type !== "none" && choice.disable_parallel_tool_use === true)
        out.parallel_tool_calls = false;
    }
  }
  return dropped.length > 0 ? { ok: true, value: out, dropped } : { ok: true, value: out };
}

/** One text stays a plain string (what every OpenAI-compatible server accepts); several keep their bounds. */
function textContent(texts: string[]): string | OaiContentPartOut[] | null {
  if (texts.length === 0) return null;
  if (texts.length === 1) return texts[0] ?? "";
  return texts.map((text) => ({ type: "text", text }));
}

/** The top-level system prompt, or a system message inside the conversation; text only. */
function systemMessage(content: string | AntBlockIn[], dropped: Dropped): OaiMessageOut | null {
  const texts: string[] = [];
  for (const block of typeof content === "string" ? [{ type: "text" as const, text: content }] : content) {
    if (block.type === "text") {
      if (block.text !== "") texts.push(block.text);
    } else dropped.push(block.type === "unknown" ? block.name : block.type);
  }
  const text = textContent(texts);
  return text === null ? null : { role: "system", content: text };
}

/**
 * Chat Completions wants each tool message right after the assistant message that made the call, and a
 * user message after them: so tool_result blocks come out first, as `tool` messages, and everything else
 * in the turn becomes one user message after them. Images inside a tool result cannot ride in a `tool`
 * message, so they move to that user message.
 */
function userTurn(blocks: AntBlockIn[], path: string, dropped: Dropped): Result<OaiMessageOut[]> {
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
        if (inner.type === "unknown") {
          dropped.push(inner.name);
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
    if (block.type === "unknown") {
      dropped.push(block.name);
      continue;
    }
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

function assistantTurn(blocks: AntBlockIn[], dropped: Dropped): OaiMessageOut[] {
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
    } else if (block.type === "unknown") dropped.push(block.name);
    // Thinking blocks are dropped: their signatures only mean something to Anthropic. Images, documents
    // and tool results cannot appear in an assistant turn.
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
