import { Hono } from "hono";
import type { AppEnv } from "../env";
import { ChatRequestEnvelope, promptChars } from "../formats/openai/chat";
import { openAiObserver } from "../formats/openai/passthrough-observer";
import { anthropicSseToOpenAiSse, messageToChatCompletion } from "../formats/translate";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";
import { messagesTranslation, openAiPassthroughPlan } from "../routing/plans";

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
      promptChars: () => promptChars(raw.messages),
    };

    if (target.provider.format === "anthropic") {
      const translated = messagesTranslation(target, raw);
      return {
        path: "/v1/messages",
        body: translated.body,
        dropped: translated.dropped,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(c, res, info, (body) =>
              messageToChatCompletion(body, { model: target.model }),
            );
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToOpenAiSse({ includeUsage: clientAskedUsage, model: target.model, onUsage }),
          );
        },
      };
    }

    return openAiPassthroughPlan(c, {
      raw,
      target,
      info,
      path: "/v1/chat/completions",
      streaming,
      streamOptions: req.stream_options,
      observer: openAiObserver,
    });
  });
});
