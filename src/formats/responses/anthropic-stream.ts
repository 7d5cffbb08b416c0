import { usageReporter, type SseTranslator, type UsageCallback } from "../translate/sse";
import {
  AntBlockDeltaIn,
  AntBlockStartIn,
  AntMessageDeltaIn,
  AntMessageStartIn,
  type ParsedEvent,
} from "../translate/types";
import { anthropicStreamUsage } from "../usage";
import { ResponsesWriter, type Finish, type WriterOptions } from "./writer";

export interface AnthropicToResponsesStreamOptions extends WriterOptions {
  /** Called once when the stream ends, however it ends, with the upstream's usage (null: none). */
  onUsage?: UsageCallback;
}

/** Anthropic stop_reason → how the response ends. */
export function finishFromStopReason(stopReason: string | null | undefined): Finish {
  if (stopReason === "max_tokens" || stopReason === "model_context_window_exceeded") {
    return { status: "incomplete", reason: "max_output_tokens" };
  }
  if (stopReason === "refusal") return { status: "incomplete", reason: "content_filter" };
  return { status: "completed" };
}

/**
 * Anthropic Messages SSE → Responses SSE events.
 *
 * Text blocks → message items (output_text deltas); thinking blocks → reasoning items (summary text;
 * signatures are dropped); tool_use blocks → function_call items with `call_id` = the tool_use id and
 * argument deltas from `input_json_delta`, closed at `content_block_stop`. `message_stop` → the terminal
 * event with the usage of `message_start` / `message_delta`. An `error` event, an unreadable event, or input
 * that ends before `message_stop` → `response.failed` + `error`. Server-tool blocks have no Responses
 * counterpart here and are skipped.
 */
export function anthropicSseToResponsesSse(opts: AnthropicToResponsesStreamOptions): SseTranslator {
  const writer = new ResponsesWriter(opts);
  const report = usageReporter(opts.onUsage);
  let stopReason: string | null = null;
  const tally = anthropicStreamUsage();
  const blocks = new Map<number, "text" | "thinking" | "tool" | "other">();

  function fail(out: string[], message: string, code: string): void {
    writer.fail(out, message, code, tally.usage);
    report(tally.usage);
  }

  function handle(ev: ParsedEvent): string[] {
    const out: string[] = [];
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      if (ev.event === "error") fail(out, `upstream error: ${ev.data}`, "api_error");
      else fail(out, "upstream sent an event that is not valid JSON", "malformed_upstream_event");
      return out;
    }
    if (typeof data !== "object" || data === null) {
      fail(out, "upstream sent an event that is not a JSON object", "malformed_upstream_event");
      return out;
    }
    const type = "type" in data && typeof data.type === "string" ? data.type : ev.event;
    if (ev.event === "error" || type === "error") {
      const inner =
        "error" in data && typeof data.error === "object" && data.error !== null ? data.error : {};
      const kind = "type" in inner && typeof inner.type === "string" ? inner.type : "api_error";
      const message =
        "message" in inner && typeof inner.message === "string" ? inner.message : "upstream error";
      fail(out, `upstream error: ${message}`, kind);
      return out;
    }
    const malformed = () => fail(out, `upstream sent a malformed ${type} event`, "malformed_upstream_event");

    switch (type) {
      case "message_start": {
        const parsed = AntMessageStartIn.safeParse(data);
        if (!parsed.success) malformed();
        else {
          tally.add(parsed.data.message.usage);
          writer.start(out);
        }
        break;
      }
      case "content_block_start": {
        const parsed = AntBlockStartIn.safeParse(data);
        if (!parsed.success) {
          malformed();
          break;
        }
        const { index, content_block: block } = parsed.data;
        if (block.type === "tool_use") {
          blocks.set(index, "tool");
          writer.toolStart(out, index, block.id, block.name);
        } else if (block.type === "text") {
          blocks.set(index, "text");
          writer.text(out, block.text ?? "");
        } else if (block.type === "thinking") {
          blocks.set(index, "thinking");
          writer.reasoning(out, block.thinking ?? "");
        } else blocks.set(index, "other");
        break;
      }
      case "content_block_delta": {
        const parsed = AntBlockDeltaIn.safeParse(data);
        if (!parsed.success) {
          malformed();
          break;
        }
        const { index, delta } = parsed.data;
        const kind = blocks.get(index);
        if (delta.type === "text_delta" && kind === "text") writer.text(out, delta.text);
        else if (delta.type === "thinking_delta" && kind === "thinking")
          writer.reasoning(out, delta.thinking);
        else if (delta.type === "input_json_delta" && kind === "tool") {
          writer.toolArguments(out, index, delta.partial_json);
        }
        break;
      }
      case "content_block_stop": {
        const index = "index" in data && typeof data.index === "number" ? data.index : -1;
        const kind = blocks.get(index);
        if (kind === "tool") writer.toolEnd(out, index);
        else if (kind === "text" || kind === "thinking") writer.closeOpen(out, "completed");
        break;
      }
      case "message_delta": {
        const parsed = AntMessageDeltaIn.safeParse(data);
        if (!parsed.success) malformed();
        else {
          tally.add(parsed.data.usage);
          stopReason = parsed.data.delta?.stop_reason ?? stopReason;
        }
        break;
      }
      case "message_stop":
        writer.finish(out, finishFromStopReason(stopReason), tally.usage);
        report(tally.usage);
        break;
      default:
        // ping, and event types newer than this code, carry nothing to translate.
        break;
    }
    return out;
  }

  return new TransformStream<ParsedEvent, string>({
    transform(ev, controller) {
      if (writer.ended) return;
      for (const frame of handle(ev)) controller.enqueue(frame);
    },
    flush(controller) {
      const out: string[] = [];
      if (!writer.ended) fail(out, "upstream stream ended before message_stop", "stream_truncated");
      for (const frame of out) controller.enqueue(frame);
      report(tally.usage);
    },
    cancel() {
      report(tally.usage, true);
    },
  });
}
