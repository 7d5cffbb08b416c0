import { Hono } from "hono";
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
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";
import { messagesTranslation, openAiPassthroughPlan } from "../routing/plans";

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
      promptChars: () => completionPromptChars(raw.prompt),
    };

    if (target.provider.format === "anthropic") {
      const asChat = completionRequestToChat({ ...raw, model: target.model });
      if (!asChat.ok) throw badRequest(asChat.message, asChat.param ?? undefined);
      const translated = messagesTranslation(target, asChat.value);
      return {
        path: "/v1/messages",
        body: translated.body,
        dropped: translated.dropped,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(c, res, info, (body) =>
              messageToTextCompletion(body, { model: target.model }),
            );
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToCompletionsSse({ includeUsage: clientAskedUsage, model: target.model, onUsage }),
          );
        },
      };
    }

    return openAiPassthroughPlan(c, {
      raw,
      target,
      info,
      path: "/v1/completions",
      streaming,
      streamOptions: req.stream_options,
      observer: completionsObserver,
    });
  });
});
