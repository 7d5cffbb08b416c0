import { Hono } from "hono";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import { DEFAULT_MAX_TOKENS } from "../config/schemas";
import { ChatRequestEnvelope, promptChars } from "../formats/openai/chat";
import { openAiObserver } from "../formats/openai/passthrough-observer";
import {
  anthropicSseToOpenAiSse,
  chatRequestToMessages,
  messageToChatCompletion,
} from "../formats/translate";
import { usageOfJson } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson, relayPassthroughSse, relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";

export const chat = new Hono<AppEnv>();

chat.post("/chat/completions", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(ChatRequestEnvelope, raw);
  return dispatch(c, req.model, "chat", (target) => {
    const streaming = req.stream === true;
    const clientAskedUsage = req.stream_options?.include_usage === true;
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: promptChars(req.messages),
    };

    if (target.provider.format === "anthropic") {
      const translated = chatRequestToMessages(raw, {
        defaultMaxTokens: target.provider.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
        model: target.model,
      });
      if (!translated.ok) throw badRequest(translated.message, translated.param ?? undefined);
      return {
        path: "/v1/messages",
        body: translated.value,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(
              c,
              res,
              info,
              (body) => messageToChatCompletion(body, { model: target.model }),
              "openai",
            );
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToOpenAiSse({ includeUsage: clientAskedUsage, model: target.model, onUsage }),
          );
        },
      };
    }

    // Same format: only `model` changes; unknown fields go on as they came (invariant 1). Streams always ask
    // for usage, so tokens are counted even when the client did not ask (invariant 6).
    const body: Record<string, unknown> = { ...raw, model: target.model };
    if (streaming && !clientAskedUsage) body.stream_options = { ...req.stream_options, include_usage: true };
    return {
      path: "/v1/chat/completions",
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
          openAiObserver({ dropUsageChunk: !clientAskedUsage }),
        );
      },
    };
  });
});
