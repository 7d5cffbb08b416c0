import type { FrameObserver } from "../passthrough";
import { frameData, frameEvent, isRecord, tryParseJson } from "../sse";
import { anthropicStreamUsage, type Usage } from "../usage";

/**
 * Anthropic Messages SSE: usage from message_start and message_delta (running totals: uncached input,
 * cache writes and reads, output), the end from message_stop, errors from `event: error`.
 */
export function anthropicObserver(): FrameObserver {
  let sawStop = false;
  let sawErrorEvent = false;
  const tally = anthropicStreamUsage();
  let outputChars = 0;
  return {
    mayDrop: false,
    get sawErrorEvent() {
      return sawErrorEvent;
    },
    get usage(): Usage | null {
      return tally.usage;
    },
    get outputChars() {
      return outputChars;
    },
    finished: () => sawStop,
    observe(frame) {
      const data = frameData(frame);
      const event = frameEvent(frame);
      if (data === null) return true;
      const body = tryParseJson(data);
      if (!isRecord(body)) return true;
      const type = event ?? (typeof body.type === "string" ? body.type : "");
      if (type === "error") sawErrorEvent = true;
      else if (type === "message_stop") sawStop = true;
      else if (type === "message_start" && isRecord(body.message)) tally.add(body.message.usage);
      else if (type === "message_delta") tally.add(body.usage);
      else if (type === "content_block_delta" && isRecord(body.delta)) {
        const d = body.delta;
        for (const field of ["text", "partial_json", "thinking"] as const) {
          const value = d[field];
          if (typeof value === "string") outputChars += value.length;
        }
      }
      return true;
    },
  };
}
