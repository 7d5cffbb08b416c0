import {
  anthropicToolId,
  fail,
  finishReasonFromStopReason,
  invalid,
  parseToolArguments,
  stopReasonFromFinishReason,
  contentParts,
} from "./mapping";
import {
  AntMessageIn,
  OaiChatCompletionIn,
  type AntMessageResponseOut,
  type AntResponseBlockOut,
  type OaiChatCompletionOut,
  type OaiToolCallOut,
  type Translated,
} from "./types";
import { NO_TOKENS, fromAnthropicUsage, fromOpenAiUsage, toAnthropicUsage, toOpenAiUsage } from "../usage";

/**
 * Non-streaming responses, both ways. Upstream bodies are validated loosely and never trusted to throw.
 * Each hands back the upstream's usage with the body it wrote.
 */

export interface ResponseOptions {
  /** The model string the client asked for, echoed back as OpenAI and Anthropic both do. */
  model: string;
  /** Unix seconds for OpenAI's `created`; defaults to now. */
  created?: number;
}

/**
 * Anthropic message → OpenAI chat.completion. Text blocks are concatenated (Anthropic splits text around
 * citations, so there is no separator to restore). Thinking becomes `reasoning_content`, the field
 * DeepSeek, vLLM and OpenRouter use and the OpenAI SDK passes through untouched; redacted thinking and
 * server-tool blocks have no OpenAI form and are left out.
 */
export function messageToChatCompletion(
  input: unknown,
  opts: ResponseOptions,
): Translated<OaiChatCompletionOut> {
  const parsed = AntMessageIn.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "upstream response");
  const msg = parsed.data;

  let text = "";
  let reasoning = "";
  const toolCalls: OaiToolCallOut[] = [];
  for (const block of msg.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "thinking") reasoning += block.thinking;
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: OaiChatCompletionOut["choices"][number]["message"] = {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== "") message.reasoning_content = reasoning;

  const usage = fromAnthropicUsage(msg.usage);
  return {
    ok: true,
    usage,
    value: {
      id: msg.id ?? "",
      object: "chat.completion",
      created: opts.created ?? Math.floor(Date.now() / 1000),
      model: opts.model,
      choices: [
        { index: 0, message, logprobs: null, finish_reason: finishReasonFromStopReason(msg.stop_reason) },
      ],
      usage: toOpenAiUsage(usage ?? NO_TOKENS),
    },
  };
}

/**
 * OpenAI chat.completion → Anthropic message. Only the first choice is read (the request translator refuses
 * n > 1). Reasoning, whether in `reasoning_content`/`reasoning` or in Databricks-style `reasoning` content
 * parts, becomes a thinking block placed first, as Anthropic orders them; its signature is empty unless
 * the upstream sent one.
 */
export function chatCompletionToMessage(
  input: unknown,
  opts: ResponseOptions,
): Translated<AntMessageResponseOut> {
  const parsed = OaiChatCompletionIn.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "upstream response");
  const cc = parsed.data;
  const choice = cc.choices.find((c) => (c.index ?? 0) === 0) ?? cc.choices[0];
  if (!choice) return fail("upstream response has no choices", null);
  const m = choice.message;

  const thinking = { text: m.reasoning_content ?? m.reasoning ?? "", signature: "" };
  let text = "";
  for (const part of contentParts(m.content)) {
    if (part.type === "text") text += part.text;
    else if (part.type === "reasoning") {
      for (const s of part.summary) {
        thinking.text += s.text ?? "";
        if (s.signature) thinking.signature = s.signature;
      }
    }
  }
  if (m.refusal) text += m.refusal;

  const content: AntResponseBlockOut[] = [];
  if (thinking.text !== "")
    content.push({ type: "thinking", thinking: thinking.text, signature: thinking.signature });
  if (text !== "") content.push({ type: "text", text });
  for (const [i, call] of (m.tool_calls ?? []).entries()) {
    content.push({
      type: "tool_use",
      id: anthropicToolId(call.id ?? `call_${i}`),
      name: call.function.name ?? "",
      input: parseToolArguments(call.function.arguments),
    });
  }
  const hasToolUse = content.some((b) => b.type === "tool_use");
  const usage = fromOpenAiUsage(cc.usage);
  return {
    ok: true,
    usage,
    value: {
      id: cc.id ?? "",
      type: "message",
      role: "assistant",
      model: opts.model,
      content,
      stop_reason:
        m.refusal && !hasToolUse ? "refusal" : stopReasonFromFinishReason(choice.finish_reason, hasToolUse),
      stop_sequence: null,
      usage: toAnthropicUsage(usage ?? NO_TOKENS),
    },
  };
}
