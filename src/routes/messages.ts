import { Hono } from "hono";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import { anthropicObserver } from "../formats/anthropic/passthrough-observer";
import {
  CountTokensEnvelope,
  MessagesRequestEnvelope,
  messagesPromptChars,
} from "../formats/anthropic/messages";
import {
  chatCompletionToMessage,
  messagesRequestToChat,
  openAiSseToAnthropicSse,
} from "../formats/translate";
import { estimateTokens, usageOfJson } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson, relayPassthroughSse, relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";

/** Anthropic Messages (`/v1/messages`), for the Anthropic SDK and Claude Code. Errors are Anthropic-shaped. */
export const messages = new Hono<AppEnv>();

messages.post("/messages", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(MessagesRequestEnvelope, raw);
  return dispatch(c, req.model, "messages", (target) => {
    const streaming = req.stream === true;
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: messagesPromptChars(raw),
    };

    if (target.provider.format === "openai") {
      const translated = messagesRequestToChat(raw, { model: target.model });
      if (!translated.ok) throw badRequest(translated.message, translated.param ?? undefined);
      const body = streaming
        ? { ...translated.value, stream_options: { include_usage: true } }
        : translated.value;
      return {
        path: "/v1/chat/completions",
        body: body,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(
              c,
              res,
              info,
              (body) => chatCompletionToMessage(body, { model: target.model }),
              "anthropic",
            );
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            openAiSseToAnthropicSse({ model: target.model, onUsage }),
          );
        },
      };
    }

    // Same format: passthrough, only `model` rewritten; anthropic-version and anthropic-beta travel with the
    // client's other headers.
    return {
      path: "/v1/messages",
      body: { ...raw, model: target.model },
      respond: (res) => {
        if (!streaming || !res.body) {
          return relayJson(c, res, info, (text) => ({
            ok: true,
            body: text,
            usage: usageOfJson(text, "anthropic"),
          }));
        }
        return relayPassthroughSse(c, res.body, info, "anthropic", anthropicObserver());
      },
    };
  });
});

/**
 * Claude Code calls this before large requests. Anthropic providers answer it themselves; for OpenAI
 * providers there is no such endpoint, so the gateway estimates (about four characters a token) and says so
 * in `x-bricklane-estimated`.
 */
messages.post("/messages/count_tokens", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(CountTokensEnvelope, raw);
  return dispatch(c, req.model, "count_tokens", (target) => {
    const promptChars = messagesPromptChars(raw);
    if (target.provider.format === "openai") {
      const estimate = { input_tokens: estimateTokens(promptChars) };
      return { answer: () => c.json(estimate, 200, { "x-bricklane-estimated": "true" }) };
    }
    const info = { provider: target.providerName, model: target.model, started, promptChars };
    return {
      path: "/v1/messages/count_tokens",
      body: { ...raw, model: target.model },
      // Counting generates nothing: the call counts as a request with no tokens.
      respond: (res) =>
        relayJson(c, res, info, (text) => ({
          ok: true,
          body: text,
          usage: { inputTokens: 0, outputTokens: 0, estimated: false },
        })),
    };
  });
});
