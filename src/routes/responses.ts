import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import {
  anthropicSseToResponsesSse,
  chatCompletionToResponse,
  chatSseToResponsesSse,
  messageToResponse,
  responseEcho,
  responsesPromptChars,
  responsesRequestToChat,
  statefulField,
} from "../formats/responses";
import { isRecord, tryParseJson } from "../formats/sse";
import { fromAnthropicUsage, fromOpenAiUsage } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson, relayTranslatedSse } from "../http/relay";
import { dispatch } from "../routing/dispatch";
import { messagesBodyFor } from "../routing/plans";

/**
 * `POST /v1/responses` (OpenAI's Responses API; what Codex CLI speaks). No provider speaks it natively
 * here, so it is always translated: onto Chat Completions for openai providers, onto Messages (through the
 * chat translation) for anthropic providers, answered as a `response` object or as the Responses event
 * stream. Stateless: `previous_response_id` and other stored-state features answer 400.
 */
export const responses = new Hono<AppEnv>();

export const ResponsesEnvelope = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown())]),
  stream: z.boolean().nullish(),
});

responses.post("/responses", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const stateful = statefulField(raw);
  if (stateful) throw badRequest(stateful.message, stateful.param);
  const req = parseWith(ResponsesEnvelope, raw);
  return dispatch(c, req.model, "responses", (target) => {
    const streaming = req.stream === true;
    const asChat = responsesRequestToChat(raw, { model: target.model });
    if (!asChat.ok) throw badRequest(asChat.message, asChat.param ?? undefined);
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: responsesPromptChars(raw),
    };
    const shape = { model: target.model, echo: responseEcho(raw) };
    const usageIn = (text: string, read: (u: unknown) => ReturnType<typeof fromOpenAiUsage>) => {
      const body = tryParseJson(text);
      return isRecord(body) ? read(body.usage) : null;
    };

    if (target.provider.format === "anthropic") {
      return {
        path: "/v1/messages",
        body: messagesBodyFor(target, asChat.value),
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayJson(c, res, info, (text) => {
              const out = messageToResponse(tryParseJson(text), shape);
              if (!out.ok) return { ok: false, reason: out.message };
              return { ok: true, body: JSON.stringify(out.value), usage: usageIn(text, fromAnthropicUsage) };
            });
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToResponsesSse({ ...shape, onUsage }),
          );
        },
      };
    }

    const body = streaming ? { ...asChat.value, stream_options: { include_usage: true } } : asChat.value;
    return {
      path: "/v1/chat/completions",
      body: body,
      respond: (res) => {
        if (!streaming || !res.body) {
          return relayJson(c, res, info, (text) => {
            const out = chatCompletionToResponse(tryParseJson(text), shape);
            if (!out.ok) return { ok: false, reason: out.message };
            return { ok: true, body: JSON.stringify(out.value), usage: usageIn(text, fromOpenAiUsage) };
          });
        }
        return relayTranslatedSse(c, res.body, info, (onUsage) =>
          chatSseToResponsesSse({ ...shape, onUsage }),
        );
      },
    };
  });
});
