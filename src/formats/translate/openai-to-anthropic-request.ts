import { anthropicToolId, fail, invalid, isHttpUrl, parseBase64DataUrl, parseToolArguments } from "./mapping";
import {
  OaiChatRequest,
  type AntContentBlockOut,
  type AntImageSource,
  type AntMessageOut,
  type AntMessagesRequestOut,
  type AntToolChoiceOut,
  type OaiMessageIn,
  type OaiUserPartIn,
  type Result,
} from "./types";

export interface ChatRequestToMessagesOptions {
  /** Anthropic requires max_tokens; OpenAI clients usually leave it out. */
  defaultMaxTokens: number;
  /** The upstream model name; defaults to the request's own `model`. */
  model?: string;
}

/**
 * OpenAI Chat Completions request → Anthropic Messages request. The rules per field are in this folder's
 * README: fields without an Anthropic counterpart that only tune the answer (seed, penalties,
 * reasoning_effort, OpenAI `metadata`, stream_options, ...) are dropped; what takes a capability away (a
 * JSON `response_format`, web search, audio output, tools that are not functions, content part types this
 * translator does not know) is dropped and named in the result's `dropped`; fields whose meaning cannot
 * be honoured (n > 1, logprobs, audio input, file ids) are rejected with a message naming the field.
 *
 * System and developer messages become the top-level system prompt, in order, wherever they stand: every
 * Anthropic-format upstream takes that, while a system message inside the conversation needs a beta
 * (mid-conversation-system-2026-04-07) that Databricks and other Anthropic-compatible servers may not know.
 */
export function chatRequestToMessages(
  input: unknown,
  opts: ChatRequestToMessagesOptions,
): Result<AntMessagesRequestOut> {
  const parsed = OaiChatRequest.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "request");
  const req = parsed.data;

  if (req.n != null && req.n > 1) {
    return fail("n > 1 is not supported by Anthropic-format providers; send one request per choice", "n");
  }
  if (req.logprobs === true)
    return fail("logprobs are not supported by Anthropic-format providers", "logprobs");
  if (req.top_logprobs != null && req.top_logprobs > 0) {
    return fail("top_logprobs is not supported by Anthropic-format providers", "top_logprobs");
  }

  const dropped: string[] = [];
  const system: { type: "text"; text: string }[] = [];
  const turns: AntMessageOut[] = [];
  for (const [i, message] of req.messages.entries()) {
    const converted = convertMessage(message, `messages[${i}]`, dropped);
    if (!converted.ok) return converted;
    if (converted.value.system) system.push(...converted.value.system);
    if (converted.value.turn) addTurn(turns, converted.value.turn);
  }
  if (turns.length === 0) {
    return fail("messages must contain at least one user, assistant or tool message", "messages");
  }
  for (const turn of turns) if (turn.role === "user") toolResultsFirst(turn);

  const out: AntMessagesRequestOut = {
    model: opts.model ?? req.model ?? "",
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? opts.defaultMaxTokens,
    messages: turns,
  };
  if (system.length > 0) out.system = system;
  // OpenAI allows 0..2; Anthropic rejects anything above 1.
  if (req.temperature != null) out.temperature = Math.min(1, Math.max(0, req.temperature));
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.top_k != null) out.top_k = req.top_k;
  const stops = (typeof req.stop === "string" ? [req.stop] : (req.stop ?? [])).filter((s) => s.trim() !== "");
  if (stops.length > 0) out.stop_sequences = stops;
  if (req.stream != null) out.stream = req.stream;
  if (req.user != null && req.user !== "") out.metadata = { user_id: req.user };
  // A plain-text format is what Anthropic answers anyway; a JSON guarantee is a capability it lacks here.
  if (req.response_format != null && req.response_format.type !== "text") dropped.push("response_format");
  if (req.web_search_options != null) dropped.push("web_search_options");
  if (req.audio != null) dropped.push("audio");

  const tools: NonNullable<AntMessagesRequestOut["tools"]> = [];
  for (const [i, tool] of (req.tools ?? []).entries()) {
    if (tool.type !== "function") {
      dropped.push(tool.type);
      continue;
    }
    if (!tool.function) return fail("a function tool needs its 'function'", `tools[${i}].function`);
    const t: (typeof tools)[number] = {
      name: tool.function.name,
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
    };
    if (tool.function.description != null) t.description = tool.function.description;
    tools.push(t);
  }
  if (tools.length > 0) {
    out.tools = tools;
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls === false);
    // A choice naming a dropped tool goes with it: the tool is already reported.
    if (choice && (choice.type !== "tool" || tools.some((t) => t.name === choice.name))) {
      out.tool_choice = choice;
    }
  }
  return dropped.length > 0 ? { ok: true, value: out, dropped } : { ok: true, value: out };
}

function toolChoice(
  choice: OaiChatRequest["tool_choice"],
  disableParallel: boolean,
): AntToolChoiceOut | undefined {
  const parallel = disableParallel ? { disable_parallel_tool_use: true } : {};
  if (choice == null) return disableParallel ? { type: "auto", ...parallel } : undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto", ...parallel };
  if (choice === "required") return { type: "any", ...parallel };
  return { type: "tool", name: choice.function.name, ...parallel };
}

/** Anthropic wants strictly alternating turns; OpenAI allows runs of one role (and tool messages). */
function addTurn(turns: AntMessageOut[], turn: AntMessageOut): void {
  if (turn.content.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === turn.role) last.content.push(...turn.content);
  else turns.push(turn);
}

/** Anthropic rejects a user turn where text comes before the tool_result blocks answering the last turn. */
function toolResultsFirst(turn: AntMessageOut): void {
  const results = turn.content.filter((b) => b.type === "tool_result");
  if (results.length === 0) return;
  turn.content = [...results, ...turn.content.filter((b) => b.type !== "tool_result")];
}

type Converted = { system?: { type: "text"; text: string }[]; turn?: AntMessageOut };

function textBlocks(content: string | { text: string }[]): { type: "text"; text: string }[] {
  const texts = typeof content === "string" ? [content] : content.map((p) => p.text);
  // Anthropic rejects empty text blocks.
  return texts.filter((t) => t !== "").map((text) => ({ type: "text", text }));
}

function convertMessage(message: OaiMessageIn, path: string, dropped: string[]): Result<Converted> {
  switch (message.role) {
    case "system":
    case "developer":
      return { ok: true, value: { system: textBlocks(message.content) } };
    case "user": {
      if (typeof message.content === "string") {
        return { ok: true, value: { turn: { role: "user", content: textBlocks(message.content) } } };
      }
      const content: AntContentBlockOut[] = [];
      for (const [j, part] of message.content.entries()) {
        if (part.type === "unknown") {
          dropped.push(part.name);
          continue;
        }
        const block = userPart(part, `${path}.content[${j}]`);
        if (!block.ok) return block;
        if (block.value) content.push(block.value);
      }
      return { ok: true, value: { turn: { role: "user", content } } };
    }
    case "assistant": {
      const content: AntContentBlockOut[] = [];
      const parts = message.content ?? [];
      for (const part of typeof parts === "string" ? [{ type: "text" as const, text: parts }] : parts) {
        if (part.type === "unknown") {
          dropped.push(part.name);
          continue;
        }
        const text = part.type === "text" ? part.text : part.refusal;
        if (text !== "") content.push({ type: "text", text });
      }
      if (message.refusal) content.push({ type: "text", text: message.refusal });
      for (const call of message.tool_calls ?? []) {
        content.push({
          type: "tool_use",
          id: anthropicToolId(call.id),
          name: call.function.name,
          input: parseToolArguments(call.function.arguments),
        });
      }
      return { ok: true, value: { turn: { role: "assistant", content } } };
    }
    case "tool": {
      const block: AntContentBlockOut = {
        type: "tool_result",
        tool_use_id: anthropicToolId(message.tool_call_id),
      };
      if (typeof message.content === "string") {
        if (message.content !== "") block.content = message.content;
      } else {
        const blocks = textBlocks(message.content);
        if (blocks.length > 0) block.content = blocks;
      }
      return { ok: true, value: { turn: { role: "user", content: [block] } } };
    }
    case "function":
      return fail(
        "the legacy 'function' role is not supported; use tool_calls and 'tool' messages",
        `${path}.role`,
      );
  }
}

function userPart(
  part: Exclude<OaiUserPartIn, { type: "unknown" }>,
  path: string,
): Result<AntContentBlockOut | null> {
  switch (part.type) {
    case "text":
      return { ok: true, value: part.text === "" ? null : { type: "text", text: part.text } };
    case "image_url": {
      const source = imageSource(part.image_url.url);
      if (!source) {
        return fail("image_url.url must be an http(s) URL or a base64 data URL", `${path}.image_url.url`);
      }
      return { ok: true, value: { type: "image", source } };
    }
    case "file": {
      const data = part.file.file_data;
      if (data == null) {
        return fail("files must be sent inline as file_data; file ids are not supported", `${path}.file`);
      }
      // OpenAI documents file_data as a data URL; bare base64 is what older SDK examples sent, always PDF.
      const parsed = parseBase64DataUrl(data) ?? { mediaType: "application/pdf", data };
      const block: AntContentBlockOut = {
        type: "document",
        source: { type: "base64", media_type: parsed.mediaType, data: parsed.data },
      };
      if (part.file.filename) block.title = part.file.filename;
      return { ok: true, value: block };
    }
    case "input_audio":
      return fail("audio input is not supported by Anthropic-format providers", path);
  }
}

function imageSource(url: string): AntImageSource | null {
  const data = parseBase64DataUrl(url);
  if (data) return { type: "base64", media_type: data.mediaType, data: data.data };
  if (isHttpUrl(url)) return { type: "url", url };
  return null;
}
