import { Hono } from "hono";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import { resolveTarget } from "../config/resolve";
import { ChatRequestEnvelope, promptChars } from "../formats/openai/chat";
import { openAiPassthrough, type StreamReport } from "../formats/openai/passthrough-stream";
import { estimateTokens, fromOpenAiUsage, type Usage } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { isRecord, tryParseJson } from "../formats/sse";
import { recordCallWhen, type CallRecord } from "../http/call-log";
import { upstreamError } from "../upstream/errors";
import { guardedBody } from "../upstream/guarded-body";
import { providerSecret, upstreamHeaders, upstreamUrl } from "../upstream/request";
import { sendUpstream } from "../upstream/send";

export const chat = new Hono<AppEnv>();

function usageOrEstimate(reported: Usage | null, inChars: number, outChars: number): Usage {
  return (
    reported ?? {
      inputTokens: estimateTokens(inChars),
      outputTokens: estimateTokens(outChars),
      estimated: true,
    }
  );
}

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

  const inChars = promptChars(req.messages);
  const base = { provider: target.providerName, model: target.model, status: res.status, stream: streaming };

  if (!streaming || !res.body) {
    const text = await res.text();
    const parsed = tryParseJson(text);
    const reported = isRecord(parsed) ? fromOpenAiUsage(parsed.usage) : null;
    recordCallWhen(
      c,
      Promise.resolve({
        ...base,
        usage: usageOrEstimate(reported, inChars, text.length),
        end: "complete",
        durationMs: Date.now() - started,
      }),
    );
    return c.body(text, 200, { "content-type": res.headers.get("content-type") ?? "application/json" });
  }

  let upstreamFailed = false;
  let settle: (record: CallRecord) => void = () => {};
  const done = new Promise<CallRecord>((resolve) => (settle = resolve));
  const finish = (report: StreamReport) =>
    settle({
      ...base,
      usage: usageOrEstimate(report.usage, inChars, report.outputChars),
      end: report.end,
      durationMs: Date.now() - started,
    });

  const tap = openAiPassthrough({
    dropUsageChunk: !clientAskedUsage,
    upstreamFailed: () => upstreamFailed,
    onEnd: finish,
  });
  const source = guardedBody(res.body, {
    onUpstreamError: () => {
      upstreamFailed = true;
    },
    onCancel: () => finish({ ...tap.snapshot(), end: "client_cancelled" }),
  });
  recordCallWhen(c, done);

  const stream = source
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(tap.stream)
    .pipeThrough(new TextEncoderStream());
  return c.body(stream, 200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
});
