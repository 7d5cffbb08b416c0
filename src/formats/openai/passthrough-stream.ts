import { errorFrame } from "../../http/render-error";
import { frameData, isRecord, splitFrames, tryParseJson } from "../sse";
import { fromOpenAiUsage, type Usage } from "../usage";

/** What a passthrough stream learned on the way, for accounting and logs. */
export type StreamReport = {
  usage: Usage | null;
  /** Characters of generated text and tool arguments, for the estimate when usage is missing. */
  outputChars: number;
  /** "complete", or why it is not: the upstream cut, or the client left. */
  end: "complete" | "upstream_cut" | "upstream_error_event" | "client_cancelled";
};

export type PassthroughOptions = {
  /** The gateway added stream_options.include_usage itself: remove the usage-only chunk again. */
  dropUsageChunk: boolean;
  /** Whether the upstream body failed while being read (set by the guarded source). */
  upstreamFailed: () => boolean;
  onEnd: (report: StreamReport) => void;
};

function deltaChars(chunk: Record<string, unknown>): number {
  let chars = 0;
  if (!Array.isArray(chunk.choices)) return 0;
  for (const choice of chunk.choices) {
    if (!isRecord(choice) || !isRecord(choice.delta)) continue;
    const { content, tool_calls: toolCalls } = choice.delta;
    if (typeof content === "string") chars += content.length;
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls) {
        if (isRecord(call) && isRecord(call.function) && typeof call.function.arguments === "string") {
          chars += call.function.arguments.length;
        }
      }
    }
  }
  return chars;
}

/**
 * OpenAI chat SSE, passed through: every byte goes on as it came (when nothing must be removed, before the
 * frame is even complete), while usage, the finish and [DONE] are read on the side. If the upstream ends
 * without finishing, the client gets an in-band error frame, never a clean end (invariant 5).
 */
export function openAiPassthrough(opts: PassthroughOptions): {
  stream: TransformStream<string, string>;
  /** What was seen so far; for a stream the client cancelled, flush never runs. */
  snapshot: () => Omit<StreamReport, "end">;
} {
  let buffer = "";
  let sawDone = false;
  let sawFinish = false;
  let sawError = false;
  let usage: Usage | null = null;
  let outputChars = 0;

  const observe = (frame: string): boolean => {
    const data = frameData(frame);
    if (data === null) return true;
    if (data.trim() === "[DONE]") {
      sawDone = true;
      return true;
    }
    const chunk = tryParseJson(data);
    if (!isRecord(chunk)) return true;
    if ("error" in chunk) sawError = true;
    const reported = fromOpenAiUsage(chunk.usage);
    if (reported) usage = reported;
    outputChars += deltaChars(chunk);
    if (Array.isArray(chunk.choices)) {
      if (chunk.choices.some((c) => isRecord(c) && typeof c.finish_reason === "string")) sawFinish = true;
      // The usage-only chunk the client did not ask for.
      if (opts.dropUsageChunk && chunk.choices.length === 0 && reported) return false;
    }
    return true;
  };

  const stream = new TransformStream<string, string>({
    transform(text, controller) {
      buffer += text;
      const { frames, rest } = splitFrames(buffer);
      buffer = rest;
      if (!opts.dropUsageChunk) {
        controller.enqueue(text);
        for (const frame of frames) observe(frame);
        return;
      }
      for (const frame of frames) if (observe(frame)) controller.enqueue(frame);
    },
    flush(controller) {
      if (buffer) {
        // A trailing frame without its blank line: pass it on (if not already) and read it.
        const keep = observe(buffer);
        if (opts.dropUsageChunk && keep) controller.enqueue(buffer);
      }
      const finished = sawDone || (sawFinish && !opts.upstreamFailed());
      let end: StreamReport["end"] = "complete";
      if (sawError) end = "upstream_error_event";
      else if (!finished) {
        end = "upstream_cut";
        controller.enqueue(
          errorFrame(
            "openai",
            "upstream_error",
            "The upstream stream ended before the response was complete.",
          ),
        );
      }
      opts.onEnd({ usage, outputChars, end });
    },
  });
  return { stream, snapshot: () => ({ usage, outputChars }) };
}
