import { Hono } from "hono";
import { DEFAULT_MAX_TOKENS } from "../config/schemas";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import {
  CompletionsRequestEnvelope,
  anthropicSseToCompletionsSse,
  completionPromptChars,
  completionRequestToChat,
  completionsObserver,
  messageToTextCompletion,
} from "../formats/openai/completions";
import { tryParseJson } from "../formats/sse";
import { chatRequestToMessages } from "../formats/translate";
import { fromAnthropicUsage, usageOfJson } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson, relayPassthroughSse, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";

/**
 * `POST /v1/completions` (legacy text completions). To openai providers: passthrough, as chat is (only
 * `model` rewritten; streams ask for usage and drop the usage chunk again unless the client asked). To
 * anthropic providers: the prompt becomes one user turn of a Messages request, and the answer (JSON or
 * SSE) comes back as text completions.
 */
export const completions = new Hono<AppEnv>();

completions.post("/completions", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(CompletionsRequestEnvelope, raw);
  return dispatch(c, req.model, "completions", (target) => {
    const streaming = req.stream === true;
    const clientAskedUsage = req.stream_options?.include_usage === true;
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: completionPromptChars(req.prompt),
    };

    if (target.provider.format === "anthropic") {
      const asChat = completionRequestToChat({ ...raw, model: target.model });
      if (!asChat.ok) throw badRequest(asChat.message, asChat.param ?? undefined);
      const translated = chatRequestToMessages(asChat.value, {
        defaultMaxTokens: target.provider.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
        model: target.model,
      });
      if (!translated.ok) throw badRequest(translated.message, translated.param ?? undefined);
      return {
        path: "/v1/messages",
        body: translated.value,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayJson(c, res, info, (text) => {
              const parsed = tryParseJson(text);
              const out = messageToTextCompletion(parsed, { model: target.model });
              if (!out.ok) return { ok: false, reason: out.message };
              const usage =
                typeof parsed === "object" && parsed !== null && "usage" in parsed
                  ? fromAnthropicUsage(parsed.usage)
                  : null;
              return { ok: true, body: JSON.stringify(out.value), usage };
            });
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToCompletionsSse({ includeUsage: clientAskedUsage, model: target.model, onUsage }),
          );
        },
      };
    }

    const body: Record<string, unknown> = { ...raw, model: target.model };
    if (streaming && !clientAskedUsage) body.stream_options = { ...req.stream_options, include_usage: true };
    return {
      path: "/v1/completions",
      body: body,
      respond: (res) => {
        if (!streaming || !res.body) {
          return relayJson(c, res, info, (text) => ({
            ok: true,
            body: text,
            usage: usageOfJson(text, "openai"),
          }));
        }
        return relayPassthroughSse(
          c,
          res.body,
          info,
          "openai",
          completionsObserver({ dropUsageChunk: !clientAskedUsage }),
        );
      },
    };
  });
});
