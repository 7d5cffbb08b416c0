import type { FrameObserver } from "../passthrough";
import { frameData, frameEvent, isRecord, tryParseJson } from "../sse";
import type { Usage } from "../usage";

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * Anthropic Messages SSE: input tokens from message_start (input + cache creation + cache read), output
 * tokens from message_delta (cumulative), the end from message_stop, errors from `event: error`.
 */
export function anthropicObserver(): FrameObserver {
  let sawStop = false;
  let sawErrorEvent = false;
  let input: number | null = null;
  let output: number | null = null;
  let outputChars = 0;
  return {
    mayDrop: false,
    get sawErrorEvent() {
      return sawErrorEvent;
    },
    get usage(): Usage | null {
      if (input === null && output === null) return null;
      return { inputTokens: input ?? 0, outputTokens: output ?? 0, estimated: false };
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
      else if (type === "message_start" && isRecord(body.message) && isRecord(body.message.usage)) {
        const u = body.message.usage;
        input = num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens);
        if (typeof u.output_tokens === "number") output = num(u.output_tokens);
      } else if (type === "message_delta" && isRecord(body.usage)) {
        // message_delta's usage is cumulative; some upstreams repeat input counts here.
        if (typeof body.usage.output_tokens === "number") output = num(body.usage.output_tokens);
        if (typeof body.usage.input_tokens === "number" && input === null)
          input = num(body.usage.input_tokens);
      } else if (type === "content_block_delta" && isRecord(body.delta)) {
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
