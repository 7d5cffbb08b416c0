import { NO_TOKENS, anthropicStreamUsage, toOpenAiUsage } from "../usage";
import { finishReasonFromStopReason } from "./mapping";
import {
  OPENAI_DONE,
  openAiErrorFrame,
  openAiFrame,
  usageReporter,
  type SseTranslator,
  type UsageCallback,
} from "./sse";
import {
  AntBlockDeltaIn,
  AntBlockStartIn,
  AntMessageDeltaIn,
  AntMessageStartIn,
  type FinishReason,
  type ParsedEvent,
} from "./types";

export interface AnthropicToOpenAiStreamOptions {
  /** The client asked for `stream_options.include_usage`: send the `choices: []` usage chunk. */
  includeUsage: boolean;
  /** The model string the client asked for. */
  model: string;
  /** Unix seconds for `created`; defaults to now. */
  created?: number;
  /** Called once when the stream ends, however it ends, with the upstream's usage (null: none). */
  onUsage?: UsageCallback;
}

/**
 * Anthropic Messages SSE events → OpenAI chat.completion.chunk frames.
 *
 * message_start → role chunk; text/input_json/thinking deltas → content / tool_calls / reasoning_content
 * chunks (nothing for empty ones); message_delta → finish_reason chunk; message_stop → usage chunk (when
 * asked) and `[DONE]`. An upstream error event, an unparsable event, or input that ends before
 * message_stop → one `{"error":...}` frame and nothing after it, so the OpenAI SDK throws instead of
 * reporting a clean, truncated answer.
 */
export function anthropicSseToOpenAiSse(opts: AnthropicToOpenAiStreamOptions): SseTranslator {
  const created = opts.created ?? Math.floor(Date.now() / 1000);
  const report = usageReporter(opts.onUsage);
  let id = "";
  let started = false;
  let finishSent = false;
  let finished = false;
  const tally = anthropicStreamUsage();
  // OpenAI numbers tool calls 0..n among tool calls only; Anthropic numbers all blocks.
  const toolIndexByBlock = new Map<number, number>();

  function chunk(delta: Record<string, unknown>, finishReason: FinishReason | null = null): string {
    return openAiFrame({
      id,
      object: "chat.completion.chunk",
      created,
      model: opts.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  }

  /** Every choice needs a role before anything else, or openai-node's finalChatCompletion() throws. */
  function start(out: string[]): void {
    if (started) return;
    started = true;
    out.push(chunk({ role: "assistant", content: "" }));
  }

  function finishChunk(out: string[], reason: FinishReason): void {
    if (finishSent) return;
    finishSent = true;
    out.push(chunk({}, reason));
  }

  function error(message: string, code: string): string[] {
    finished = true;
    report(tally.usage);
    return [openAiErrorFrame(message, code)];
  }

  function handle(ev: ParsedEvent): string[] {
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      // A proxy in between may send its own plain-text error event; its words are the useful part.
      if (ev.event === "error") return error(`upstream error: ${ev.data}`, "api_error");
      return error("upstream sent an event that is not valid JSON", "malformed_upstream_event");
    }
    if (typeof data !== "object" || data === null) {
      return error("upstream sent an event that is not a JSON object", "malformed_upstream_event");
    }
    const type = "type" in data && typeof data.type === "string" ? data.type : ev.event;
    if (ev.event === "error" || type === "error") return upstreamError(data);

    const out: string[] = [];
    switch (type) {
      case "message_start": {
        const parsed = AntMessageStartIn.safeParse(data);
        if (!parsed.success) return malformed(type);
        id = parsed.data.message.id ?? id;
        tally.add(parsed.data.message.usage);
        start(out);
        return out;
      }
      case "content_block_start": {
        const parsed = AntBlockStartIn.safeParse(data);
        if (!parsed.success) return malformed(type);
        start(out);
        const block = parsed.data.content_block;
        if (block.type === "tool_use") {
          const index = toolIndexByBlock.size;
          toolIndexByBlock.set(parsed.data.index, index);
          out.push(
            chunk({
              tool_calls: [
                { index, id: block.id, type: "function", function: { name: block.name, arguments: "" } },
              ],
            }),
          );
        } else if (block.type === "text" && block.text) {
          out.push(chunk({ content: block.text }));
        } else if (block.type === "thinking" && block.thinking) {
          out.push(chunk({ reasoning_content: block.thinking }));
        }
        return out;
      }
      case "content_block_delta": {
        const parsed = AntBlockDeltaIn.safeParse(data);
        if (!parsed.success) return malformed(type);
        start(out);
        const delta = parsed.data.delta;
        if (delta.type === "text_delta" && delta.text !== "") {
          out.push(chunk({ content: delta.text }));
        } else if (delta.type === "thinking_delta" && delta.thinking !== "") {
          out.push(chunk({ reasoning_content: delta.thinking }));
        } else if (delta.type === "input_json_delta" && delta.partial_json !== "") {
          const index = toolIndexByBlock.get(parsed.data.index);
          // JSON for a block that never started as tool_use (a server tool) has no OpenAI home.
          if (index !== undefined)
            out.push(chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }));
        }
        return out;
      }
      case "message_delta": {
        const parsed = AntMessageDeltaIn.safeParse(data);
        if (!parsed.success) return malformed(type);
        tally.add(parsed.data.usage);
        start(out);
        finishChunk(out, finishReasonFromStopReason(parsed.data.delta?.stop_reason));
        return out;
      }
      case "message_stop": {
        start(out);
        finishChunk(out, "stop");
        if (opts.includeUsage) {
          out.push(
            openAiFrame({
              id,
              object: "chat.completion.chunk",
              created,
              model: opts.model,
              choices: [],
              usage: toOpenAiUsage(tally.usage ?? NO_TOKENS),
            }),
          );
        }
        out.push(OPENAI_DONE);
        finished = true;
        report(tally.usage);
        return out;
      }
      default:
        // ping, content_block_stop, and event types newer than this code carry nothing to translate.
        return out;
    }
  }

  function malformed(type: string): string[] {
    return error(`upstream sent a malformed ${type} event`, "malformed_upstream_event");
  }

  function upstreamError(data: object): string[] {
    const inner = "error" in data && typeof data.error === "object" && data.error !== null ? data.error : {};
    const kind = "type" in inner && typeof inner.type === "string" ? inner.type : "api_error";
    const message =
      "message" in inner && typeof inner.message === "string" ? inner.message : "upstream error";
    return error(`upstream error: ${message}`, kind);
  }

  return new TransformStream<ParsedEvent, string>({
    transform(ev, controller) {
      if (finished) return;
      for (const frame of handle(ev)) controller.enqueue(frame);
    },
    flush(controller) {
      if (!finished) {
        for (const frame of error("upstream stream ended before message_stop", "stream_truncated")) {
          controller.enqueue(frame);
        }
      }
      report(tally.usage);
    },
    cancel() {
      report(tally.usage, true);
    },
  });
}
