import type { FrameObserver } from "../passthrough";
import { frameData, isRecord, tryParseJson } from "../sse";
import { fromOpenAiUsage, type Usage } from "../usage";

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
 * OpenAI SSE (chat and text completions): usage from the usage chunk, the end from `[DONE]` (or a finish_reason followed by a
 * clean close, for upstreams that omit `[DONE]`), errors from any `{"error":…}` data.
 */
export function openAiObserver(opts: {
  dropUsageChunk: boolean;
  /** Characters of generated output in one chunk; chat deltas by default (text completions differ). */
  outputChars?: (chunk: Record<string, unknown>) => number;
}): FrameObserver {
  const charsOf = opts.outputChars ?? deltaChars;
  let sawDone = false;
  let sawFinish = false;
  let sawErrorEvent = false;
  let usage: Usage | null = null;
  let outputChars = 0;
  return {
    mayDrop: opts.dropUsageChunk,
    get sawErrorEvent() {
      return sawErrorEvent;
    },
    get usage() {
      return usage;
    },
    get outputChars() {
      return outputChars;
    },
    finished: (upstreamFailed) => sawDone || (sawFinish && !upstreamFailed),
    observe(frame) {
      const data = frameData(frame);
      if (data === null) return true;
      if (data.trim() === "[DONE]") {
        sawDone = true;
        return true;
      }
      const chunk = tryParseJson(data);
      if (!isRecord(chunk)) return true;
      if ("error" in chunk) sawErrorEvent = true;
      const reported = fromOpenAiUsage(chunk.usage);
      if (reported) usage = reported;
      outputChars += charsOf(chunk);
      if (!Array.isArray(chunk.choices)) return true;
      if (chunk.choices.some((c) => isRecord(c) && typeof c.finish_reason === "string")) sawFinish = true;
      // The usage-only chunk the client did not ask for.
      return !(opts.dropUsageChunk && chunk.choices.length === 0 && reported);
    },
  };
}
