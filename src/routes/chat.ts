import { Hono } from "hono";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import { resolveTarget } from "../config/resolve";
import { ChatRequestEnvelope, promptChars } from "../formats/openai/chat";
import { openAiObserver } from "../formats/openai/passthrough-observer";
import { fromOpenAiUsage } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { isRecord, tryParseJson } from "../formats/sse";
import { relayJson, relaySse } from "../http/relay";
import { upstreamError } from "../upstream/errors";
import { providerSecret, upstreamHeaders, upstreamUrl } from "../upstream/request";
import { sendUpstream } from "../upstream/send";

export const chat = new Hono<AppEnv>();

chat.post("/chat/completions", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(ChatRequestEnvelope, raw);
  const target = await resolveTarget(c.env, c.get("key"), req.model, "chat");
  if (target.provider.format !== "openai") {
    throw badRequest(
      `Provider '${target.providerName}' speaks the Anthropic format; call it through /v1/messages (translation from chat completions is not available yet).`,
      "model",
    );
  }

  const streaming = req.stream === true;
  const clientAskedUsage = req.stream_options?.include_usage === true;
  // Only `model` changes; unknown fields go on as they came (invariant 1). Streams always ask for usage,
  // so tokens are counted even when the client did not ask (invariant 6).
  const body: Record<string, unknown> = { ...raw, model: target.model };
  if (streaming && !clientAskedUsage) body.stream_options = { ...req.stream_options, include_usage: true };

  const secret = providerSecret(c.env, target.providerName, target.provider);
  const res = await sendUpstream({
    providerName: target.providerName,
    url: upstreamUrl(target.provider, "/v1/chat/completions"),
    headers: upstreamHeaders(c.req.raw.headers, target.provider, secret),
    body: JSON.stringify(body),
    timeoutMs: target.provider.timeoutMs,
    clientSignal: c.req.raw.signal,
  });
  if (!res.ok) throw await upstreamError(res, target.providerName, secret);

  const info = {
    provider: target.providerName,
    model: target.model,
    started,
    promptChars: promptChars(req.messages),
  };
  if (!streaming || !res.body) {
    return relayJson(c, res, info, (text) => {
      const parsed = tryParseJson(text);
      return isRecord(parsed) ? fromOpenAiUsage(parsed.usage) : null;
    });
  }
  return relaySse(c, res.body, info, "openai", openAiObserver({ dropUsageChunk: !clientAskedUsage }));
});
