import * as z from "zod";
import type { FrameObserver } from "../passthrough";
import { openAiObserver } from "./passthrough-observer";
import { frameData, isRecord, tryParseJson } from "../sse";
import { anthropicSseToOpenAiSse, messageToChatCompletion, type SseTranslator } from "../translate";
import type { OaiChatCompletionOut, Result, Translated, UsageCallback } from "../translate";

/**
 * OpenAI's legacy text completions (`POST /v1/completions`): the envelope the gateway reads, the
 * passthrough tap for its streams, and the mapping onto Anthropic Messages (the prompt as one user turn),
 * which goes through the Chat Completions translators.
 */

/**
 * What the gateway itself reads from a text completions request; `prompt` is forwarded as sent on
 * passthrough and read by the translation onto Messages.
 */
export const CompletionsRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type CompletionsRequestEnvelope = z.infer<typeof CompletionsRequestEnvelope>;

/** Characters of prompt text (token-id prompts count one per id), for the estimate without usage. */
export function completionPromptChars(prompt: unknown): number {
  if (typeof prompt === "string") return prompt.length;
  if (!Array.isArray(prompt)) return 0;
  let chars = 0;
  for (const p of prompt) {
    if (typeof p === "string") chars += p.length;
    else if (typeof p === "number") chars += 1;
    else if (Array.isArray(p)) chars += p.length;
  }
  return chars;
}

// ---------------------------------------------------------------------------------------------------
// Passthrough: the tap on an OpenAI-format upstream's completion stream

function textChars(chunk: Record<string, unknown>): number {
  let chars = 0;
  if (!Array.isArray(chunk.choices)) return 0;
  for (const choice of chunk.choices) {
    if (isRecord(choice) && typeof choice.text === "string") chars += choice.text.length;
  }
  return chars;
}

/**
 * Text completion SSE: read like chat's (usage chunk, `[DONE]`, in-band errors, the usage chunk the
 * gateway asked for dropped again), counting `choices[].text` as output.
 */
export function completionsObserver(opts: { dropUsageChunk: boolean }): FrameObserver {
  return openAiObserver({ ...opts, outputChars: textChars });
}

// ---------------------------------------------------------------------------------------------------
// Onto Anthropic Messages, through Chat Completions

const CompletionsForAnthropic = z.looseObject({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string()).length(1, "Anthropic-format providers take one prompt")]),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  stream: z.boolean().nullish(),
  user: z.string().nullish(),
  n: z.number().int().nullish(),
  best_of: z.number().int().nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().nullish(),
  suffix: z.string().nullish(),
});

/** The Chat Completions request a text completion becomes: its prompt as the one user message. */
export interface CompletionAsChat {
  model: string;
  messages: [{ role: "user"; content: string }];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  stream?: boolean;
  user?: string;
}

/**
 * Text completion request → Chat Completions request (for `chatRequestToMessages`). What Messages cannot
 * do is refused by name: several prompts or choices (`n`, `best_of`), `echo`, `logprobs`, `suffix`, and
 * token-id prompts.
 */
export function completionRequestToChat(input: unknown): Result<CompletionAsChat> {
  const parsed = CompletionsForAnthropic.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.length ? issue.path.map(String).join(".") : null;
    const what = param === "prompt" ? "prompt must be a string (token-id prompts are not supported)" : null;
    return { ok: false, message: what ?? `${param ?? "request"}: ${issue?.message ?? "invalid"}`, param };
  }
  const req = parsed.data;
  const refuse = (param: string, why: string): Result<CompletionAsChat> => ({
    ok: false,
    message: `${param} ${why} is not supported by Anthropic-format providers`,
    param,
  });
  if (req.n != null && req.n > 1) return refuse("n", "> 1");
  if (req.best_of != null && req.best_of > 1) return refuse("best_of", "> 1");
  if (req.echo === true) return refuse("echo", "");
  if (req.logprobs != null) return refuse("logprobs", "");
  if (req.suffix != null && req.suffix !== "") return refuse("suffix", "");

  const prompt = typeof req.prompt === "string" ? req.prompt : (req.prompt[0] ?? "");
  const out: CompletionAsChat = { model: req.model, messages: [{ role: "user", content: prompt }] };
  if (req.max_tokens != null) out.max_tokens = req.max_tokens;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.stop != null) out.stop = req.stop;
  if (req.stream != null) out.stream = req.stream;
  if (req.user != null) out.user = req.user;
  return { ok: true, value: out };
}

export interface TextCompletionOut {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: { text: string; index: 0; logprobs: null; finish_reason: string }[];
  usage: OaiChatCompletionOut["usage"];
}

/** A chat completion's first choice as a text completion (tool calls cannot occur: none are offered). */
export function chatCompletionToTextCompletion(cc: OaiChatCompletionOut): TextCompletionOut {
  const choice = cc.choices[0];
  return {
    id: cc.id,
    object: "text_completion",
    created: cc.created,
    model: cc.model,
    choices: [
      {
        text: choice?.message.content ?? "",
        index: 0,
        logprobs: null,
        finish_reason: choice?.finish_reason ?? "stop",
      },
    ],
    usage: cc.usage,
  };
}

/** An Anthropic message → text completion. */
export function messageToTextCompletion(
  input: unknown,
  opts: { model: string; created?: number },
): Translated<TextCompletionOut> {
  const cc = messageToChatCompletion(input, opts);
  return cc.ok ? { ok: true, value: chatCompletionToTextCompletion(cc.value), usage: cc.usage } : cc;
}

/**
 * Chat chunk frames (as the Anthropic → OpenAI stream translator writes them: `data: <json>\n\n`, one per
 * string) → text completion chunk frames. Text deltas become `text`; the role-only first chunk and
 * reasoning are dropped; finish, usage, error frames and `[DONE]` keep their meaning.
 */
function chatFramesToCompletionFrames(): TransformStream<string, string> {
  return new TransformStream<string, string>({
    transform(frame, controller) {
      const data = frameData(frame);
      const chunk = data === null ? undefined : tryParseJson(data);
      if (!isRecord(chunk) || "error" in chunk) {
        controller.enqueue(frame);
        return;
      }
      const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
      const out: Record<string, unknown> = {
        id: chunk.id,
        object: "text_completion",
        created: chunk.created,
        model: chunk.model,
        choices: [],
      };
      if (choices.length === 0) {
        controller.enqueue(`data: ${JSON.stringify({ ...out, usage: chunk.usage })}\n\n`);
        return;
      }
      const choice = isRecord(choices[0]) ? choices[0] : {};
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const text = typeof delta.content === "string" ? delta.content : "";
      const finish = typeof choice.finish_reason === "string" ? choice.finish_reason : null;
      if (text === "" && finish === null) return;
      out.choices = [{ text, index: 0, logprobs: null, finish_reason: finish }];
      controller.enqueue(`data: ${JSON.stringify(out)}\n\n`);
    },
  });
}

/**
 * Anthropic Messages SSE → text completion SSE: the Anthropic → OpenAI chat translator (which owns usage,
 * in-band errors and truncation) followed by the chunk reshaping above.
 */
export function anthropicSseToCompletionsSse(opts: {
  includeUsage: boolean;
  model: string;
  onUsage?: UsageCallback;
}): SseTranslator {
  const chat = anthropicSseToOpenAiSse(opts);
  const reshape = chatFramesToCompletionFrames();
  // A transform pair: what the relay pipes through is the chat translator followed by the reshaping.
  const pair: SseTranslator = { writable: chat.writable, readable: chat.readable.pipeThrough(reshape) };
  return pair;
}
