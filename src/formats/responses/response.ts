import { messageToChatCompletion } from "../translate/responses";
import { contentParts, invalid, fail } from "../translate/mapping";
import { OaiChatCompletionIn, type Translated } from "../translate/types";
import { NO_TOKENS, fromOpenAiUsage, toResponsesUsage } from "../usage";
import { callItem } from "./calls";
import { finishFromChat } from "./chat-stream";
import type { ToolNames } from "./tool-names";
import type { OutputItemOut, ResponseEcho, ResponseOut } from "./types";
import { newResponseId, responseObject } from "./writer";

/** Non-streamed answers: a chat completion or an Anthropic message → a Responses `response` object. */

export interface ResponseObjectOptions {
  model: string;
  echo: ResponseEcho;
  responseId?: string;
  createdAt?: number;
  /** The tool names the request translation gave out; calls are reported as the client's tools. */
  names?: ToolNames;
}

/**
 * Chat completion (first choice) → response: reasoning (`reasoning_content`, `reasoning`, reasoning parts)
 * becomes a reasoning item, text and refusal a message item, each tool call a function_call (or, for a
 * freeform tool, custom_tool_call) item named as the client declared it, in that order; `length` / `content_filter` make the response `incomplete`.
 */
export function chatCompletionToResponse(
  input: unknown,
  opts: ResponseObjectOptions,
): Translated<ResponseOut> {
  const parsed = OaiChatCompletionIn.safeParse(input);
  if (!parsed.success) return invalid(parsed.error, "upstream response");
  const cc = parsed.data;
  const choice = cc.choices.find((c) => (c.index ?? 0) === 0) ?? cc.choices[0];
  if (!choice) return fail("upstream response has no choices", null);
  const m = choice.message;

  const id = opts.responseId ?? newResponseId();
  const suffix = id.slice("resp_".length);
  let n = 0;
  const itemId = (prefix: string) => `${prefix}_${suffix}_${++n}`;

  let reasoning = m.reasoning_content ?? m.reasoning ?? "";
  let text = "";
  for (const part of contentParts(m.content)) {
    if (part.type === "text") text += part.text;
    else if (part.type === "reasoning") for (const s of part.summary) reasoning += s.text ?? "";
  }
  if (m.refusal) text += m.refusal;

  const finish = finishFromChat(choice.finish_reason);
  const status = finish.status === "completed" ? "completed" : "incomplete";
  const output: OutputItemOut[] = [];
  if (reasoning !== "") {
    output.push({
      id: itemId("rs"),
      type: "reasoning",
      status: "completed",
      summary: [{ type: "summary_text", text: reasoning }],
    });
  }
  if (text !== "") {
    output.push({
      id: itemId("msg"),
      type: "message",
      status,
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
    });
  }
  for (const [i, call] of (m.tool_calls ?? []).entries()) {
    output.push(
      callItem(opts.names, {
        id: itemId("fc"),
        callId: call.id ?? `call_${i}`,
        wireName: call.function.name ?? "",
        arguments: call.function.arguments ?? "",
        status,
      }),
    );
  }
  const meta = {
    id,
    createdAt: opts.createdAt ?? Math.floor(Date.now() / 1000),
    model: opts.model,
    echo: opts.echo,
  };
  const counted = fromOpenAiUsage(cc.usage);
  const usage = toResponsesUsage(counted ?? NO_TOKENS);
  return {
    ok: true,
    usage: counted,
    value:
      finish.status === "completed"
        ? responseObject(meta, "completed", output, usage)
        : responseObject(meta, "incomplete", output, usage, { incomplete: { reason: finish.reason } }),
  };
}

/**
 * Anthropic message → response, through the chat completion translation (one mapping of stop reasons).
 * The usage handed back is the Anthropic message's own, cache writes included.
 */
export function messageToResponse(input: unknown, opts: ResponseObjectOptions): Translated<ResponseOut> {
  const cc = messageToChatCompletion(input, { model: opts.model });
  if (!cc.ok) return cc;
  const out = chatCompletionToResponse(cc.value, opts);
  return out.ok ? { ...out, usage: cc.usage } : out;
}
