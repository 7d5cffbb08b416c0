import type { WireFormat } from "../env";
import { errorFrame } from "../http/render-error";
import type { StreamRedaction } from "../upstream/redactor";
import { FrameTap } from "./frame-tap";
import type { Usage } from "./usage";

/** What a passthrough stream learned on the way, for accounting and logs. */
export type StreamReport = {
  usage: Usage | null;
  /** Characters of generated text and tool arguments, for the estimate when usage is missing. */
  outputChars: number;
  /** "complete", or why it is not. */
  end: "complete" | "upstream_cut" | "upstream_error_event" | "client_cancelled";
};

/**
 * Reads one wire format's frames on the side. `observe` returns false for a frame that must not reach
 * the client (only the usage chunk the gateway asked for on the client's behalf).
 */
export interface FrameObserver {
  observe(frame: string): boolean;
  /** Whether the response reached its terminal event (given whether the upstream read failed). */
  finished(upstreamFailed: boolean): boolean;
  readonly sawErrorEvent: boolean;
  readonly usage: Usage | null;
  readonly outputChars: number;
  /** True when some frame may be dropped: then each frame's bytes wait until the frame is complete. */
  readonly mayDrop: boolean;
}

export type PassthroughOptions = {
  format: WireFormat;
  observer: FrameObserver;
  /** Takes the provider's secret out of the bytes before they are read or sent on. */
  redaction: StreamRedaction;
  /** Called once, when the stream ends or the client cancels it. */
  onEnd: (report: StreamReport) => void;
};

const encoder = new TextEncoder();

/**
 * SSE passed through in one stage: a stream that reads the upstream body itself and sends every byte on
 * as it came (when nothing may be removed, before its frame is even complete), while the observer reads
 * usage and the terminal event on the side. The one change to the bytes: the provider's secret, should
 * the upstream echo it, is replaced (a chunk without it goes on as the very same chunk; only a chunk tail
 * that may begin the secret waits for the next chunk). A failed read of the upstream body ends the stream
 * like its end does, and a stream that ends without its terminal event gets an in-band error event in the
 * client's format, never a clean end. A cancel (the client left) cancels the upstream body, which aborts
 * the upstream request.
 */
export function passthroughBody(
  body: ReadableStream<Uint8Array>,
  opts: PassthroughOptions,
): ReadableStream<Uint8Array> {
  const { observer, redaction } = opts;
  const reader = body.getReader();
  const tap = new FrameTap(observer);
  let over = false;
  const report = (end: StreamReport["end"]) => {
    if (over) return;
    over = true;
    opts.onEnd({ usage: observer.usage, outputChars: observer.outputChars, end });
  };

  let sent = false;
  let send: (bytes: Uint8Array) => void = () => {};

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, upstreamFailed: boolean) => {
    tap.take(redaction.end(), send);
    const cut = tap.end(send);
    let end: StreamReport["end"] = "complete";
    if (observer.sawErrorEvent) end = "upstream_error_event";
    else if (!observer.finished(upstreamFailed)) {
      end = "upstream_cut";
      const message = "The upstream stream ended before the response was complete.";
      // A frame cut off half way is ended first, so the error arrives as a frame of its own.
      send(encoder.encode((cut ? "\n\n" : "") + errorFrame(opts.format, "upstream_error", message)));
    }
    controller.close();
    report(end);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      send = (bytes) => {
        controller.enqueue(bytes);
        sent = true;
      };
    },
    async pull(controller) {
      // A chunk that sends nothing (held back as a possible secret, or a dropped frame) must not end the
      // pull: the stream would not ask again.
      sent = false;
      while (!sent) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch {
          if (!over) finish(controller, true);
          return;
        }
        // Cancelled while reading: the cancel has reported, and the stream takes nothing more.
        if (over) return;
        if (read.done) return finish(controller, false);
        tap.take(redaction.push(read.value), send);
      }
    },
    async cancel(reason) {
      report("client_cancelled");
      await reader.cancel(reason).catch(() => {});
    },
  });
}
