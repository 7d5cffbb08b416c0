import { NO_TOKENS, fromOpenAiUsage, toAnthropicUsage, type Usage } from "../usage";
import { anthropicToolId, contentParts, stopReasonFromFinishReason } from "./mapping";
import {
  anthropicErrorFrame,
  anthropicFrame,
  usageReporter,
  type SseTranslator,
  type UsageCallback,
} from "./sse";
import { OaiChunkIn, type ParsedEvent } from "./types";

export interface OpenAiToAnthropicStreamOptions {
  /** The model string the client asked for. */
  model: string;
  /** The id in message_start; defaults to a random `msg_…`. */
  messageId?: string;
  /** Called once when the stream ends, however it ends, with the upstream's usage (null: none). */
  onUsage?: UsageCallback;
}

type ToolCallDelta = NonNullable<
  NonNullable<NonNullable<NonNullable<OaiChunkIn["choices"]>[number]["delta"]>["tool_calls"]>[number]
>;

interface ToolCall {
  key: number;
  id?: string;
  name?: string;
  /** Arguments received while the call has no block yet (no name yet, or another tool block is open). */
  pendingArgs: string;
  state: "waiting" | "open" | "closed";
  /** Whether the arguments so far are a complete JSON object: nothing but whitespace can follow. */
  json: JsonScan;
}

interface OpenBlock {
  index: number;
  kind: "text" | "thinking" | "tool";
  tool?: ToolCall;
}

/**
 * Incremental scan of streamed tool-call arguments, O(1) memory: has the top-level `{` been closed?
 * Strings and escapes are respected; anything that does not start with `{` never completes.
 */
interface JsonScan {
  status: "start" | "object" | "complete" | "other";
  depth: number;
  inString: boolean;
  escaped: boolean;
}

function scanJson(s: JsonScan, chunk: string): void {
  for (let i = 0; i < chunk.length && s.status !== "other"; i++) {
    const c = chunk[i];
    const space = c === " " || c === "\n" || c === "\r" || c === "\t";
    if (s.status === "start") {
      if (space) continue;
      if (c === "{") {
        s.status = "object";
        s.depth = 1;
      } else s.status = "other";
    } else if (s.status === "complete") {
      if (!space) s.status = "other";
    } else if (s.inString) {
      if (s.escaped) s.escaped = false;
      else if (c === "\\") s.escaped = true;
      else if (c === '"') s.inString = false;
    } else if (c === '"') s.inString = true;
    else if (c === "{" || c === "[") s.depth++;
    else if ((c === "}" || c === "]") && --s.depth === 0) s.status = "complete";
  }
}

/**
 * OpenAI chat.completion.chunk frames → Anthropic Messages SSE events.
 *
 * message_start goes out at once. Blocks are numbered 0..n in start order and only one is open at a time:
 * a text or thinking delta stops the open block and starts one of its kind, then is emitted into it. The
 * finish_reason stops the last block; message_delta waits for the usage chunk (or `[DONE]`, or the end of
 * input) and is followed by message_stop.
 *
 * Tool calls get one tool_use block per upstream index, in order of first appearance, and a block starts
 * once the call's name is known. Some servers interleave the argument fragments of several calls, so a
 * new index does not stop an open tool block whose arguments are still incomplete: the new call waits,
 * its arguments buffered, while the open call keeps streaming. The open tool block is stopped when its
 * arguments become a complete JSON object (nothing but whitespace can follow) and a call is waiting; the
 * waiting calls then start in turn, each with one delta carrying its buffered arguments, and the first
 * whose arguments are still incomplete stays open and streams on. A sequential upstream (one call
 * complete before the next starts) therefore streams every call live. A text or thinking delta stops
 * the open block and emits the waiting calls that have a name, each as a block of its own, before its
 * own block; the finish_reason and the end of the stream do the same for every waiting call.
 *
 * Errors end the stream with one `event: error` frame: an upstream error payload, unparsable JSON, input
 * that ends with neither a finish_reason nor `[DONE]`, and an argument fragment for a tool call whose
 * block was already stopped, unless it is whitespace after complete arguments (Anthropic cannot reopen a
 * block; only a call's arguments continuing after a text or thinking delta can cause it, which no known
 * server does).
 */
export function openAiSseToAnthropicSse(opts: OpenAiToAnthropicStreamOptions): SseTranslator {
  const messageId = opts.messageId ?? `msg_${crypto.randomUUID().replace(/-/g, "")}`;
  const report = usageReporter(opts.onUsage);
  let usage: Usage | null = null;
  let finished = false;
  let finishSeen = false;
  let finishReason: string | null = null;
  let hasToolUse = false;
  let nextIndex = 0;
  let open: OpenBlock | null = null;
  const tools = new Map<number, ToolCall>();
  /** Calls that have no block yet, in order of first appearance. */
  const waiting: ToolCall[] = [];
  let lastToolKey: number | undefined;

  function startBlock(
    out: string[],
    kind: OpenBlock["kind"],
    contentBlock: Record<string, unknown>,
  ): OpenBlock {
    // Text and thinking come after every tool call seen so far: those still waiting go first.
    if (kind !== "tool") flushWaiting(out);
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

  /** Starts the block of a waiting call (stopping the open one) with one delta of its buffered arguments. */
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

  /**
   * Starts waiting calls in order of first appearance, each once it has a name, for as long as the open
   * block may be stopped: it is not a tool block, or its call's arguments are a complete JSON object.
   */
  function advance(out: string[]): void {
    while (
      waiting[0]?.name !== undefined &&
      (open?.kind !== "tool" || open.tool?.json.status === "complete")
    ) {
      const next = waiting.shift();
      if (next) startTool(out, next);
    }
  }

  /** Stops the open block and emits each waiting call that has a name as a block of its own, stopped. */
  function flushWaiting(out: string[]): void {
    while (waiting[0]?.name !== undefined) {
      const next = waiting.shift();
      if (!next) break;
      startTool(out, next);
      stopBlock(out);
    }
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
      tool = {
        key,
        pendingArgs: "",
        state: "waiting",
        json: { status: "start", depth: 0, inString: false, escaped: false },
      };
      tools.set(key, tool);
      waiting.push(tool);
    }
    if (call.id && tool.id === undefined) tool.id = call.id;
    if (call.function?.name && tool.name === undefined) tool.name = call.function.name;
    const args = call.function?.arguments ?? "";

    if (tool.state === "closed") {
      // Whitespace after a complete JSON object changes nothing; anything else would be lost.
      return args === "" || (tool.json.status === "complete" && /^[ \t\r\n]*$/.test(args));
    }
    scanJson(tool.json, args);
    if (tool.state === "open") {
      if (args !== "" && open) delta(out, open, { type: "input_json_delta", partial_json: args });
    } else tool.pendingArgs += args;
    advance(out);
    return true;
  }

  /** Stops the open block and gives every waiting call its block (nameless ones too), so none is lost. */
  function stopAll(out: string[]): void {
    stopBlock(out);
    for (const tool of waiting.splice(0)) {
      startTool(out, tool);
      stopBlock(out);
    }
  }

  function finalize(): string[] {
    const out: string[] = [];
    stopAll(out);
    out.push(
      anthropicFrame({
        type: "message_delta",
        delta: { stop_reason: stopReasonFromFinishReason(finishReason, hasToolUse), stop_sequence: null },
        usage: toAnthropicUsage(usage ?? NO_TOKENS),
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
            return error(
              out,
              "api_error",
              "upstream interleaved a tool call's arguments with other content after its block was stopped",
            );
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
      usage = fromOpenAiUsage(chunk.usage);
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
            usage: toAnthropicUsage(usage ?? NO_TOKENS),
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
      report(usage, true);
    },
  });
}
