import type { WireFormat } from "../env";
import { errorFrame } from "../http/render-error";
import type { StreamRedaction } from "../upstream/redactor";
import { splitFrames } from "./sse";
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
  /** True when some frame may be dropped: then frames are forwarded whole, not byte by byte. */
  readonly mayDrop: boolean;
}

export type PassthroughOptions = {
  format: WireFormat;
  observer: FrameObserver;
  /** Takes the provider's secret out of the bytes before they are read or sent on. */
  redaction: StreamRedaction;
  /** Whether the upstream body failed while being read (set by the guarded source). */
  upstreamFailed: () => boolean;
  onEnd: (report: StreamReport) => void;
};

/**
 * SSE passed through: every byte goes on as it came (when nothing may be removed, before its frame is even
 * complete), while the observer reads usage and the terminal event on the side. The one change to the
 * bytes: the provider's secret, should the upstream echo it, is replaced (a chunk without it goes on as the
 * very same chunk; only a chunk tail that may begin the secret waits for the next chunk). A stream that
 * ends without its terminal event gets an in-band error event in the client's format, never a clean end.
 */
export function passthroughStream(opts: PassthroughOptions): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  /** What was seen so far; for a stream the client cancelled, flush never runs. */
  snapshot: () => Omit<StreamReport, "end">;
} {
  const { observer } = opts;
  let buffer = "";
  // One stage instead of decode → tap → encode: when nothing may be dropped the upstream's own chunks go
  // on untouched and the text is only decoded for reading.
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const snapshot = () => ({ usage: observer.usage, outputChars: observer.outputChars });

  const take = (bytes: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>) => {
    if (bytes.length === 0) return;
    buffer += decoder.decode(bytes, { stream: true });
    const { frames, rest } = splitFrames(buffer);
    buffer = rest;
    if (!observer.mayDrop) {
      controller.enqueue(bytes);
      for (const frame of frames) observer.observe(frame);
      return;
    }
    for (const frame of frames) if (observer.observe(frame)) controller.enqueue(encoder.encode(frame));
  };

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(bytes, controller) {
      take(opts.redaction.push(bytes), controller);
    },
    flush(controller) {
      take(opts.redaction.end(), controller);
      buffer += decoder.decode();
      if (buffer) {
        // A last frame without its blank line: pass it on (if not already) and read it.
        const keep = observer.observe(buffer);
        if (observer.mayDrop && keep) controller.enqueue(encoder.encode(buffer));
      }
      let end: StreamReport["end"] = "complete";
      if (observer.sawErrorEvent) end = "upstream_error_event";
      else if (!observer.finished(opts.upstreamFailed())) {
        end = "upstream_cut";
        const message = "The upstream stream ended before the response was complete.";
        // A frame cut off half way is ended first, so the error arrives as a frame of its own.
        const frameEnd = buffer ? "\n\n" : "";
        controller.enqueue(encoder.encode(frameEnd + errorFrame(opts.format, "upstream_error", message)));
      }
      opts.onEnd({ ...snapshot(), end });
    },
  });
  return { stream, snapshot };
}
