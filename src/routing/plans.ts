import type { Context } from "hono";
import type { Target } from "../config/resolve";
import { DEFAULT_MAX_TOKENS } from "../config/schemas";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import type { FrameObserver } from "../formats/passthrough";
import { chatRequestToMessages, type AntMessagesRequestOut } from "../formats/translate";
import { usageOfJson } from "../formats/usage";
import { relayJson, relayPassthroughSse, type CallInfo } from "../http/relay";
import { passthroughShaping } from "../upstream/passthrough-shaping";
import type { Plan } from "./dispatch";

/**
 * Plans shared by the OpenAI-format routes (chat, text completions): the passthrough to an openai
 * provider, and the step onto Messages for an anthropic provider.
 */

/**
 * Same format: only `model` changes (and what the provider's passthrough shaping removes); unknown fields,
 * roles and part types go on as they came. Streams always ask for usage, so tokens are counted even when
 * the client did not ask, and the usage chunk the client did not ask for is taken out again.
 */
export function openAiPassthroughPlan(
  c: Context<AppEnv>,
  opts: {
    raw: Record<string, unknown>;
    target: Target;
    info: CallInfo;
    path: string;
    streaming: boolean;
    streamOptions: Record<string, unknown> | null | undefined;
    observer: (o: { dropUsageChunk: boolean }) => FrameObserver;
  },
): Plan {
  const clientAskedUsage = opts.streamOptions?.include_usage === true;
  const shaped = passthroughShaping(opts.target.provider, { ...opts.raw, model: opts.target.model });
  const body = shaped.body;
  if (opts.streaming && !clientAskedUsage) {
    body.stream_options = { ...opts.streamOptions, include_usage: true };
  }
  return {
    path: opts.path,
    body,
    editHeaders: shaped.editHeaders,
    respond: (res) =>
      !opts.streaming || !res.body
        ? relayJson(c, res, opts.info, (text) => ({
            ok: true,
            body: text,
            usage: usageOfJson(text, "openai"),
          }))
        : relayPassthroughSse(
            c,
            res.body,
            opts.info,
            "openai",
            opts.observer({ dropUsageChunk: !clientAskedUsage }),
          ),
  };
}

/**
 * A chat request onto Messages for an anthropic provider, with its max_tokens default, and the names of
 * what the translation dropped; 400 if it cannot be translated.
 */
export function messagesTranslation(
  target: Target,
  chatRequest: unknown,
): { body: AntMessagesRequestOut; dropped?: readonly string[] } {
  const translated = chatRequestToMessages(chatRequest, {
    defaultMaxTokens: target.provider.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    model: target.model,
  });
  if (!translated.ok) throw badRequest(translated.message, translated.param ?? undefined);
  return translated.dropped
    ? { body: translated.value, dropped: translated.dropped }
    : { body: translated.value };
}
