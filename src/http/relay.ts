import type { Context } from "hono";
import type { AppEnv, WireFormat } from "../env";
import { passthroughStream, type FrameObserver, type StreamReport } from "../formats/passthrough";
import { estimateTokens, type Usage } from "../formats/usage";
import { guardedBody } from "../upstream/guarded-body";
import { recordCallWhen, type CallRecord } from "./call-log";

/** What is known about a call before its response is relayed. */
export type CallInfo = {
  provider: string;
  model: string;
  started: number;
  /** Characters of prompt text, for the estimate when the upstream reports no usage. */
  promptChars: number;
};

function usageOrEstimate(reported: Usage | null, inChars: number, outChars: number): Usage {
  return (
    reported ?? {
      inputTokens: estimateTokens(inChars),
      outputTokens: estimateTokens(outChars),
      estimated: true,
    }
  );
}

/** A JSON answer: read whole (it is one object, not a stream), usage taken from it, bytes unchanged. */
export async function relayJson(
  c: Context<AppEnv>,
  res: Response,
  info: CallInfo,
  usageOf: (text: string) => Usage | null,
): Promise<Response> {
  const text = await res.text();
  recordCallWhen(
    c,
    Promise.resolve({
      provider: info.provider,
      model: info.model,
      status: res.status,
      stream: false,
      usage: usageOrEstimate(usageOf(text), info.promptChars, text.length),
      end: "complete",
      durationMs: Date.now() - info.started,
    }),
  );
  return c.body(text, 200, { "content-type": res.headers.get("content-type") ?? "application/json" });
}

/**
 * An SSE answer relayed as it arrives: upstream body (guarded, so a cut becomes an end) → decode → the
 * format's passthrough tap → encode. The call is recorded when the stream ends or the client leaves.
 */
export function relaySse(
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array>,
  info: CallInfo,
  format: WireFormat,
  observer: FrameObserver,
): Response {
  let upstreamFailed = false;
  let settle: (record: CallRecord) => void = () => {};
  const done = new Promise<CallRecord>((resolve) => (settle = resolve));
  const finish = (report: StreamReport) =>
    settle({
      provider: info.provider,
      model: info.model,
      status: 200,
      stream: true,
      usage: usageOrEstimate(report.usage, info.promptChars, report.outputChars),
      end: report.end,
      durationMs: Date.now() - info.started,
    });

  const tap = passthroughStream({ format, observer, upstreamFailed: () => upstreamFailed, onEnd: finish });
  const source = guardedBody(body, {
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
}
