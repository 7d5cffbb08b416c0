import { Hono, type Context } from "hono";
import * as z from "zod";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import {
  anthropicSseToResponsesSse,
  chatCompletionToResponse,
  chatSseToResponsesSse,
  messageToResponse,
  ResponsesWriter,
  newResponseId,
  responseEcho,
  responsesPromptChars,
  statefulField,
  translateResponsesRequest,
} from "../formats/responses";
import { responseObject } from "../formats/responses/writer";
import { NO_TOKENS, toResponsesUsage } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayTranslatedJson, relayTranslatedSse } from "../http/relay";
import { dispatch, type Plan } from "../routing/dispatch";
import { messagesTranslation } from "../routing/plans";

/**
 * `POST /v1/responses` (OpenAI's Responses API; what Codex CLI speaks). No provider speaks it natively
 * here, so it is always translated: onto Chat Completions for openai providers, onto Messages (through the
 * chat translation) for anthropic providers, answered as a `response` object or as the Responses event
 * stream. Stateless: `previous_response_id` and other stored-state features answer 400 (the WebSocket
 * transport resolves `previous_response_id` within its own connection before a call gets here).
 */
export const responses = new Hono<AppEnv>();

/** Only what the route itself reads; everything else is the translation's business. */
export const ResponsesEnvelope = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown())]),
  stream: z.boolean().nullish(),
});

/**
 * `generate: false` (Codex's warm-up on a new WebSocket) asks for a response that generates nothing: the
 * gateway answers it itself, completed and empty, without calling (or charging for) an upstream.
 */
function warmup(
  c: Context<AppEnv>,
  shape: { model: string; echo: ReturnType<typeof responseEcho> },
  stream: boolean,
) {
  if (!stream) {
    const meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), ...shape };
    return c.json(responseObject(meta, "completed", [], toResponsesUsage(NO_TOKENS)));
  }
  const writer = new ResponsesWriter(shape);
  const out: string[] = [];
  writer.start(out);
  writer.finish(out, { status: "completed" }, NO_TOKENS);
  return c.body(out.join(""), 200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
}

responses.post("/responses", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const stateful = statefulField(raw);
  if (stateful) throw badRequest(stateful.message, stateful.param);
  const req = parseWith(ResponsesEnvelope, raw);
  return dispatch(c, req.model, "responses", (target): Plan => {
    const streaming = req.stream === true;
    const warm = raw.generate === false;
    const translated = translateResponsesRequest(raw, { model: target.model, warmup: warm });
    if (!translated.ok) throw badRequest(translated.message, translated.param ?? undefined);
    const { chat, names } = translated.value;
    const dropped = translated.dropped;
    const shape = { model: target.model, echo: responseEcho(raw), names };
    if (warm) return { answer: () => warmup(c, shape, streaming) };
    const info = {
      provider: target.providerName,
      model: target.model,
      started,
      promptChars: () => responsesPromptChars(raw),
    };

    if (target.provider.format === "anthropic") {
      // The step from chat onto Messages may leave out more (e.g. a JSON response format): name it too.
      const onto = messagesTranslation(target, chat);
      return {
        path: "/v1/messages",
        body: onto.body,
        dropped: [...(dropped ?? []), ...(onto.dropped ?? [])],
        respond: (res) => {
          if (!streaming || !res.body) {
            return relayTranslatedJson(c, res, info, (body) => messageToResponse(body, shape));
          }
          return relayTranslatedSse(c, res.body, info, (onUsage) =>
            anthropicSseToResponsesSse({ ...shape, onUsage }),
          );
        },
      };
    }

    const body = streaming ? { ...chat, stream_options: { include_usage: true } } : chat;
    return {
      path: "/v1/chat/completions",
      body,
      dropped,
      respond: (res) => {
        if (!streaming || !res.body) {
          return relayTranslatedJson(c, res, info, (body) => chatCompletionToResponse(body, shape));
        }
        return relayTranslatedSse(c, res.body, info, (onUsage) =>
          chatSseToResponsesSse({ ...shape, onUsage }),
        );
      },
    };
  });
});
