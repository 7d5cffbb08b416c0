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
import { NO_TOKENS, estimateTokens, usageOfJson } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson, relayPassthroughSse, relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";
import { passthroughShaping } from "../upstream/passthrough-shaping";

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
      promptChars: () => messagesPromptChars(raw),
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
        dropped: translated.dropped,
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(c, res, info, (body) =>
              chatCompletionToMessage(body, { model: target.model }),
            );
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            openAiSseToAnthropicSse({ model: target.model, onUsage }),
          );
        },
      };
    }

    // Same format: passthrough, only `model` rewritten (and what the provider's shaping removes);
    // anthropic-version and anthropic-beta travel with the client's other headers.
    const shaped = passthroughShaping(target.provider, { ...raw, model: target.model });
    return {
      path: "/v1/messages",
      body: shaped.body,
      editHeaders: shaped.editHeaders,
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
 * Upstream statuses that mean "no count_tokens here": Anthropic-compatible servers that implement only
 * /v1/messages answer these, and an estimate is more use to Claude Code than an error.
 */
const COUNT_TOKENS_MISSING = [404, 405, 501] as const;

/**
 * Claude Code calls this before large requests. Anthropic providers answer it themselves; for OpenAI
 * providers there is no such endpoint, and some Anthropic-compatible upstreams lack it, so the gateway
 * estimates (about four characters a token) and says so in `x-bricklane-estimated`.
 */
messages.post("/messages/count_tokens", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(CountTokensEnvelope, raw);
  const estimate = () =>
    c.json({ input_tokens: estimateTokens(messagesPromptChars(raw)) }, 200, {
      "x-bricklane-estimated": "true",
    });
  return dispatch(c, req.model, "count_tokens", (target) => {
    if (target.provider.format === "openai") return { answer: estimate };
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: () => messagesPromptChars(raw),
    };
    const shaped = passthroughShaping(target.provider, { ...raw, model: target.model });
    // Counting generates nothing: the call reached the upstream, so it counts as a request with no
    // tokens, whether the upstream counted or lacked the endpoint (then the gateway estimates).
    const counted = NO_TOKENS;
    return {
      path: "/v1/messages/count_tokens",
      body: shaped.body,
      editHeaders: shaped.editHeaders,
      acceptStatuses: COUNT_TOKENS_MISSING,
      respond: async (res) => {
        if (res.ok) return relayJson(c, res, info, (text) => ({ ok: true, body: text, usage: counted }));
        await res.body?.cancel().catch(() => {});
        return {
          response: estimate(),
          outcome: Promise.resolve({
            provider: info.provider,
            model: info.model,
            status: 200,
            stream: false,
            usage: counted,
            end: "complete" as const,
            durationMs: Date.now() - started,
          }),
        };
      },
    };
  });
});
