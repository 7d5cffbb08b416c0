import {
  anthropicToolId,
  contentParts,
  stopReasonFromFinishReason,
  toAnthropicUsage,
  usageFromOpenAi,
} from "./mapping";
import { anthropicErrorFrame, anthropicFrame, usageReporter, type SseTranslator } from "./sse";
import { OaiChunkIn, type ParsedEvent, type StreamUsage } from "./types";

export interface OpenAiToAnthropicStreamOptions {
  /** The model string the client asked for. */
  model: string;
  /** The id in message_start; defaults to a random `msg_…`. */
  messageId?: string;
  /** Called once when the stream ends, however it ends. */
  onUsage?: (usage: StreamUsage) => void;
}

type ToolCallDelta = NonNullable<
  NonNullable<NonNullable<NonNullable<OaiChunkIn["choices"]>[number]["delta"]>["tool_calls"]>[number]
>;

interface ToolCall {
  key: number;
  id?: string;
  name?: string;
  /** Arguments that arrived before the name: a tool_use block cannot start without one. */
  pendingArgs: string;
  state: "pending" | "open" | "closed";
}

interface OpenBlock {
  index: number;
  kind: "text" | "thinking" | "tool";
  tool?: ToolCall;
}

/**
 * OpenAI chat.completion.chunk frames → Anthropic Messages SSE events.
 *
 * message_start goes out at once. Blocks are numbered 0..n in start order and only one is open at a time:
 * a delta of another kind (text, thinking, a new tool-call index) stops the open block and starts the next
 * one, then is emitted into it. The finish_reason stops the last block; message_delta waits for the usage
 * chunk (or `[DONE]`, or the end of input) and is followed by message_stop.
 *
 * Errors end the stream with one `event: error` frame: an upstream error payload, unparsable JSON, input
 * that ends with neither a finish_reason nor `[DONE]`, and argument fragments for a tool call whose block
 * was already stopped (Anthropic cannot reopen a block; no known server interleaves tool calls like that).
 */
export function openAiSseToAnthropicSse(opts: OpenAiToAnthropicStreamOptions): SseTranslator {
  const messageId = opts.messageId ?? `msg_${crypto.randomUUID().replace(/-/g, "")}`;
  const report = usageReporter(opts.onUsage);
  let usage: StreamUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reported: false };
  let finished = false;
  let finishSeen = false;
  let finishReason: string | null = null;
  let hasToolUse = false;
  let nextIndex = 0;
  let open: OpenBlock | null = null;
  const tools = new Map<number, ToolCall>();
  let lastToolKey: number | undefined;

  function startBlock(
    out: string[],
    kind: OpenBlock["kind"],
    contentBlock: Record<string, unknown>,
  ): OpenBlock {
    stopBlock(out);
    const block: OpenBlock = { index: nextIndex++, kind };
    out.push(
      anthropicFrame({ type: "content_block_start", index: block.index, content_block: contentBlock }),
    );
    open = block;
    return block;
  }

  function stopBlock(out: string[]): void {
    if (!open) return;
    out.push(anthropicFrame({ type: "content_block_stop", index: open.index }));
    if (open.tool) open.tool.state = "closed";
    open = null;
  }

  function delta(out: string[], block: OpenBlock, d: Record<string, unknown>): void {
    out.push(anthropicFrame({ type: "content_block_delta", index: block.index, delta: d }));
  }

  function text(out: string[], value: string): void {
    if (value === "") return;
    const block = open?.kind === "text" ? open : startBlock(out, "text", { type: "text", text: "" });
    delta(out, block, { type: "text_delta", text: value });
  }

  function thinking(out: string[], value: string, signature?: string | null): void {
    if (value === "" && !signature) return;
    const block =
      open?.kind === "thinking"
        ? open
        : startBlock(out, "thinking", { type: "thinking", thinking: "", signature: "" });
    if (value !== "") delta(out, block, { type: "thinking_delta", thinking: value });
    if (signature) delta(out, block, { type: "signature_delta", signature });
  }

  function startTool(out: string[], tool: ToolCall): void {
    const id = anthropicToolId(tool.id ?? `${messageId}_tool_${tool.key}`);
    const block = startBlock(out, "tool", { type: "tool_use", id, name: tool.name ?? "", input: {} });
    block.tool = tool;
    tool.state = "open";
    hasToolUse = true;
    if (tool.pendingArgs !== "")
      delta(out, block, { type: "input_json_delta", partial_json: tool.pendingArgs });
    tool.pendingArgs = "";
  }

  /** Returns false when the fragment cannot be placed (its block is already stopped). */
  function toolFragment(out: string[], call: ToolCallDelta): boolean {
    // Servers that omit `index` send one call at a time: a new id means a new call.
    let key = call.index ?? lastToolKey ?? 0;
    if (
      call.index == null &&
      call.id != null &&
      lastToolKey !== undefined &&
      tools.get(lastToolKey)?.id !== call.id
    ) {
      key = lastToolKey + 1;
    }
    lastToolKey = key;
    let tool = tools.get(key);
    if (!tool) {
      tool = { key, pendingArgs: "", state: "pending" };
      tools.set(key, tool);
    }
    if (call.id && tool.id === undefined) tool.id = call.id;
    if (call.function?.name && tool.name === undefined) tool.name = call.function.name;
    const args = call.function?.arguments ?? "";

    if (tool.state === "closed") return args === "";
    if (tool.state === "pending") {
      tool.pendingArgs += args;
      if (tool.name !== undefined) startTool(out, tool);
      return true;
    }
    if (args !== "" && open) delta(out, open, { type: "input_json_delta", partial_json: args });
    return true;
  }

  /** Stops the open block and gives every still-nameless tool call its block, so none is lost. */
  function stopAll(out: string[]): void {
    stopBlock(out);
    for (const tool of [...tools.values()].sort((a, b) => a.key - b.key)) {
      if (tool.state === "pending") startTool(out, tool);
    }
    stopBlock(out);
  }

  function finalize(): string[] {
    const out: string[] = [];
    stopAll(out);
    out.push(
      anthropicFrame({
        type: "message_delta",
        delta: { stop_reason: stopReasonFromFinishReason(finishReason, hasToolUse), stop_sequence: null },
        usage: toAnthropicUsage(usage),
      }),
    );
    out.push(anthropicFrame({ type: "message_stop" }));
    finished = true;
    report(usage);
    return out;
  }

  function error(out: string[], type: "api_error" | "overloaded_error", message: string): string[] {
    out.push(anthropicErrorFrame(type, message));
    finished = true;
    report(usage);
    return out;
  }

  function upstreamError(payload: unknown): string[] {
    const inner =
      typeof payload === "object" && payload !== null && "error" in payload ? payload.error : payload;
    const fields = typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>) : {};
    const message =
      typeof fields.message === "string"
        ? fields.message
        : typeof inner === "string"
          ? inner
          : "upstream error";
    const kind = [fields.type, fields.code, fields.status].map((v) => String(v ?? "")).join(" ");
    const overloaded = /overload|rate.?limit|capacity|429|503|529/i.test(kind);
    return error([], overloaded ? "overloaded_error" : "api_error", `upstream error: ${message}`);
  }

  function handle(ev: ParsedEvent): string[] {
    if (ev.data.trim() === "[DONE]") return finalize();
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      if (ev.event === "error") return upstreamError(ev.data);
      return error([], "api_error", "upstream sent an event that is not valid JSON");
    }
    if (ev.event === "error") return upstreamError(data);
    if (typeof data === "object" && data !== null && "error" in data && data.error != null) {
      return upstreamError(data);
    }
    const parsed = OaiChunkIn.safeParse(data);
    if (!parsed.success) return error([], "api_error", "upstream sent a malformed chat.completion.chunk");
    const chunk = parsed.data;

    const out: string[] = [];
    const choice = finishSeen ? undefined : chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (choice) {
      const d = choice.delta;
      if (d) {
        thinking(out, d.reasoning_content ?? d.reasoning ?? "");
        for (const part of contentParts(d.content)) {
          if (part.type === "text") text(out, part.text);
          else if (part.type === "reasoning") {
            for (const s of part.summary) thinking(out, s.text ?? "", s.signature);
          }
        }
        text(out, d.refusal ?? "");
        for (const call of d.tool_calls ?? []) {
          if (!toolFragment(out, call)) {
            return error(out, "api_error", "upstream interleaved the arguments of several tool calls");
          }
        }
      }
      if (choice.finish_reason) {
        finishSeen = true;
        finishReason = choice.finish_reason;
        stopAll(out);
      }
    }
    if (chunk.usage) {
      usage = usageFromOpenAi(chunk.usage);
      // The usage chunk follows the finish_reason (or rides on it): the message is complete.
      if (finishSeen) out.push(...finalize());
    }
    return out;
  }

  return new TransformStream<ParsedEvent, string>({
    start(controller) {
      // Sent before the upstream says anything, so the client has its first byte at once.
      controller.enqueue(
        anthropicFrame({
          type: "message_start",
          message: {
            id: messageId,
            type: "message",
            role: "assistant",
            model: opts.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: toAnthropicUsage(usage),
          },
        }),
      );
    },
    transform(ev, controller) {
      if (finished) return;
      for (const frame of handle(ev)) controller.enqueue(frame);
    },
    flush(controller) {
      if (!finished) {
        const frames = finishSeen
          ? finalize()
          : error([], "api_error", "upstream stream ended before the response was complete");
        for (const frame of frames) controller.enqueue(frame);
      }
      report(usage);
    },
    cancel() {
      report(usage);
    },
  });
}
