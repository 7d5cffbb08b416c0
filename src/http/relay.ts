import type { Context } from "hono";
import type { AppEnv, WireFormat } from "../env";
import { GatewayError } from "../errors";
import { passthroughBody, type FrameObserver, type StreamReport } from "../formats/passthrough";
import {
  translateSseStream,
  type SseTranslator,
  type Translated,
  type UsageCallback,
} from "../formats/translate";
import { estimatedUsage, type Usage } from "../formats/usage";
import { captureResponseStream, keepResponseBody, type CallResult } from "./call-log";
import { asServed } from "./served-stream";

/**
 * A relayed answer: the response for the client, and what became of the call once it is over (for a
 * stream, when it ends or the client leaves), for the one who accounts for the call (src/routing/dispatch.ts).
 */
export type Relayed = { response: Response; outcome: Promise<CallResult> };

/** What is known about a call before its response is relayed. */
export type CallInfo = {
  provider: string;
  model: string;
  started: number;
  /**
   * Characters of prompt text, for the estimate when the upstream reports no usage: counted only then
   * (a coding agent's prompt is a long history, and upstreams almost always report usage).
   */
  promptChars: () => number;
};

function usageOrEstimate(reported: Usage | null, inChars: () => number, outChars: number): Usage {
  return reported ?? estimatedUsage(inChars(), outChars);
}

function record(info: CallInfo, stream: boolean, report: StreamReport): CallResult {
  return {
    provider: info.provider,
    model: info.model,
    status: 200,
    stream,
    usage: usageOrEstimate(report.usage, info.promptChars, report.outputChars),
    end: report.end,
    durationMs: Date.now() - info.started,
  };
}

type Converted = { ok: true; body: string; usage: Usage | null } | { ok: false; reason: string };

/** A converter that throws (a stack overflow on an absurdly nested upstream body) has failed to read it. */
function convertSafely(convert: (text: string) => Converted, text: string): Converted {
  try {
    return convert(text);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * A JSON answer: read whole (one object, not a stream), the provider's secret taken out, converted
 * (identity for passthrough), usage taken from it. A body the translator cannot read is the upstream's
 * fault: 502, not a crash.
 */
export async function relayJson(
  c: Context<AppEnv>,
  res: Response,
  info: CallInfo,
  convert: (text: string) => Converted,
): Promise<Relayed> {
  const text = c.get("redactor").redact(await res.text());
  const converted = convertSafely(convert, text);
  if (!converted.ok) {
    throw new GatewayError(
      "upstream_error",
      502,
      `Provider '${info.provider}' returned a response the gateway could not read.`,
      {
        internal: converted.reason,
      },
    );
  }
  keepResponseBody(c, converted.body);
  return {
    response: c.body(converted.body, 200, { "content-type": "application/json" }),
    outcome: Promise.resolve(
      record(info, false, { usage: converted.usage, outputChars: text.length, end: "complete" }),
    ),
  };
}

/**
 * A JSON answer in the other format, through a pure translator, which hands back the upstream's usage
 * with the body it wrote (nothing reads the body again to find it).
 */
export function relayTranslatedJson(
  c: Context<AppEnv>,
  res: Response,
  info: CallInfo,
  translate: (body: unknown) => Translated<object>,
): Promise<Relayed> {
  return relayJson(c, res, info, (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, reason: "upstream body is not JSON" };
    }
    const out = translate(parsed);
    if (!out.ok) return { ok: false, reason: out.message };
    return { ok: true, body: JSON.stringify(out.value), usage: out.usage };
  });
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/**
 * A relayed stream as the client's response. In workerd it is piped into a native stream first: workerd
 * writes each chunk of it to the client with less work than it takes to pull one from a JavaScript
 * stream (about 8 % less Worker CPU per streamed call; README, "The response stream"), and it does tell
 * a native stream when the client hangs up, which then cancels the relayed stream through the pipe (a
 * JavaScript response stream was not told, served by Miniflare directly). Outside workerd (unit tests,
 * in Node) the stream goes as it is.
 */
function streamResponse(c: Context<AppEnv>, stream: ReadableStream<Uint8Array>): Response {
  return c.body(asServed(captureResponseStream(c, stream)), 200, SSE_HEADERS);
}

/**
 * Settles once with the first report, whichever end (flush, error, cancel) comes first. A client that
 * goes away over a real connection does not always cancel the stream (the runtime may just drop it), so
 * the request's own abort signal is an end too: the call is then accounted for with what was seen so far,
 * instead of never.
 */
function once(c: Context<AppEnv>, info: CallInfo, seen: () => Omit<StreamReport, "end">) {
  let settle: (r: CallResult) => void = () => {};
  const done = new Promise<CallResult>((resolve) => (settle = resolve));
  const finish = (report: StreamReport) => settle(record(info, true, report));
  const signal = c.req.raw.signal;
  const onAbort = () => finish({ ...seen(), end: "client_cancelled" });
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  void done.then(() => signal.removeEventListener("abort", onAbort));
  return { done, finish };
}

/**
 * SSE in the client's own format, relayed as it arrives, in one stage that reads the upstream body, takes
 * the provider's secret out and lets the format's observer read each frame on the side (bytes in, the same
 * bytes out). Recorded when it ends or the client leaves.
 */
export function relayPassthroughSse(
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array>,
  info: CallInfo,
  format: WireFormat,
  observer: FrameObserver,
): Relayed {
  const seen = () => ({ usage: observer.usage, outputChars: observer.outputChars });
  const { done, finish } = once(c, info, seen);
  const stream = passthroughBody(body, {
    format,
    observer,
    redaction: c.get("redactor").stream(),
    onEnd: finish,
  });
  return { response: streamResponse(c, stream), outcome: done };
}

/**
 * SSE in the other format: upstream body (guarded, the provider's secret taken out) → decode → parse
 * events (eventsource-parser) → the translator → encode. The translator ends every stream with its
 * terminal event or an in-band error, whose words then come from bytes that hold no secret.
 */
export function relayTranslatedSse(
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array>,
  info: CallInfo,
  makeTranslator: (onUsage: UsageCallback) => SseTranslator,
): Relayed {
  const { done, finish } = once(c, info, () => ({ usage: null, outputChars: 0 }));
  // A read failure of the upstream body is the cut the translator reports in-band; count it as an error.
  let upstreamFailed = false;
  // A client that leaves cancels the translator before the guard below hears of it: the translator says so.
  const translator = makeTranslator((usage, cancelled) =>
    finish({
      usage,
      outputChars: 0,
      end: cancelled ? "client_cancelled" : upstreamFailed ? "upstream_cut" : "complete",
    }),
  );
  // The translator may not see a cancel at all; settle here (the first report wins).
  const stream = translateSseStream(body, translator, {
    redaction: c.get("redactor").stream(),
    onUpstreamError: () => {
      upstreamFailed = true;
    },
    onCancel: () => finish({ usage: null, outputChars: 0, end: "client_cancelled" }),
  });
  return { response: streamResponse(c, stream), outcome: done };
}
