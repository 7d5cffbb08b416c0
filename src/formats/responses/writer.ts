import { NO_TOKENS, toResponsesUsage, type Usage } from "../usage";
import { callItem, freeformInput } from "./calls";
import type { ToolNames } from "./tool-names";
import type {
  ItemStatus,
  MessageItemOut,
  OutputItemOut,
  ReasoningItemOut,
  ResponseEcho,
  ResponseOut,
  ResponseStatus,
  ResponseUsageOut,
  ToolCallItemOut,
} from "./types";

/**
 * The Responses event sequence, written from what a stream adapter (OpenAI chat chunks or Anthropic
 * events) tells it: text, reasoning, tool-call starts and argument fragments, the end. It owns the
 * invariants the openai SDK's ResponseStream and Codex CLI rely on:
 *
 * - `response.created` and `response.in_progress` first; every frame has `event: <type>` and a
 *   `sequence_number` counting from 0;
 * - an item is announced (`response.output_item.added`, for messages also `response.content_part.added`,
 *   for reasoning `response.reasoning_summary_part.added`) before any delta for it, and closed with its
 *   `.done` events and a complete `response.output_item.done`;
 * - text and reasoning are never open at the same time (opening one closes the other); function calls
 *   may stay open side by side (OpenAI upstreams interleave their arguments) until their block ends or
 *   the response does;
 * - a call is reported as the tool the client declared (`names`): a `function_call` with its name and
 *   namespace, streamed as `response.function_call_arguments.*`, or, for a freeform tool, a
 *   `custom_tool_call` whose input is known once the call ends (`response.custom_tool_call_input.*`);
 * - exactly one terminal event: `response.completed` / `response.incomplete` with the whole output and
 *   usage, or on failure `response.failed` followed by an `error` event (whose nested `error` object makes
 *   openai-node throw; Codex stops at `response.failed`). Nothing is written after it.
 */

export interface WriterOptions {
  /** The model name echoed in the response. */
  model: string;
  /** Request settings echoed in the response. */
  echo: ResponseEcho;
  /** `resp_…`; random by default. */
  responseId?: string;
  /** Unix seconds; now by default. */
  createdAt?: number;
  /** The tool names the request translation gave out; calls are reported as the client's tools. */
  names?: ToolNames;
}

export type Finish =
  { status: "completed" } | { status: "incomplete"; reason: "max_output_tokens" | "content_filter" };

type OpenText = { kind: "message"; index: number; item: MessageItemOut; text: string };
type OpenReasoning = { kind: "reasoning"; index: number; item: ReasoningItemOut; text: string };
type OpenCall = { index: number; item: ToolCallItemOut; args: string };

export function newResponseId(): string {
  return `resp_${crypto.randomUUID().replace(/-/g, "")}`;
}

/** A response object (for the stream's lifecycle events and for non-streamed answers). */
export function responseObject(
  opts: { id: string; createdAt: number; model: string; echo: ResponseEcho },
  status: ResponseStatus,
  output: OutputItemOut[],
  usage: ResponseUsageOut | null,
  extra: { error?: ResponseOut["error"]; incomplete?: ResponseOut["incomplete_details"] } = {},
): ResponseOut {
  return {
    id: opts.id,
    object: "response",
    created_at: opts.createdAt,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ?? null,
    model: opts.model,
    output,
    previous_response_id: null,
    store: false,
    truncation: "disabled",
    usage,
    ...opts.echo,
  };
}

export class ResponsesWriter {
  private seq = 0;
  private readonly id: string;
  private readonly createdAt: number;
  private readonly items: OutputItemOut[] = [];
  private open: OpenText | OpenReasoning | null = null;
  private readonly calls = new Map<string | number, OpenCall>();
  private itemCount = 0;
  private started = false;
  /** Set once a terminal event is written; nothing follows it. */
  ended = false;

  constructor(private readonly opts: WriterOptions) {
    this.id = opts.responseId ?? newResponseId();
    this.createdAt = opts.createdAt ?? Math.floor(Date.now() / 1000);
  }

  private frame(out: string[], type: string, payload: Record<string, unknown>): void {
    out.push(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`,
    );
  }

  private response(status: ResponseStatus, usage: ResponseUsageOut | null, extra = {}): ResponseOut {
    const meta = { id: this.id, createdAt: this.createdAt, model: this.opts.model, echo: this.opts.echo };
    // Items are copied: the object is serialised now, while the items keep changing afterwards.
    return responseObject(meta, status, structuredClone(this.items), usage, extra);
  }

  private itemId(prefix: string): string {
    this.itemCount += 1;
    return `${prefix}_${this.id.slice("resp_".length)}_${this.itemCount}`;
  }

  /** `response.created` and `response.in_progress`, once, before anything else. */
  start(out: string[]): void {
    if (this.started) return;
    this.started = true;
    this.frame(out, "response.created", { response: this.response("in_progress", null) });
    this.frame(out, "response.in_progress", { response: this.response("in_progress", null) });
  }

  private addItem(out: string[], item: OutputItemOut): number {
    const index = this.items.length;
    this.items.push(item);
    this.frame(out, "response.output_item.added", { output_index: index, item: structuredClone(item) });
    return index;
  }

  text(out: string[], delta: string): void {
    if (delta === "") return;
    this.start(out);
    if (this.open?.kind !== "message") {
      this.closeOpen(out, "completed");
      const item: MessageItemOut = {
        id: this.itemId("msg"),
        type: "message",
        status: "in_progress",
        role: "assistant",
        content: [],
      };
      const index = this.addItem(out, item);
      this.frame(out, "response.content_part.added", {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [], logprobs: [] },
      });
      item.content.push({ type: "output_text", text: "", annotations: [], logprobs: [] });
      this.open = { kind: "message", index, item, text: "" };
    }
    const open = this.open;
    open.text += delta;
    const part = open.item.content[0];
    if (part) part.text = open.text;
    this.frame(out, "response.output_text.delta", {
      item_id: open.item.id,
      output_index: open.index,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  reasoning(out: string[], delta: string): void {
    if (delta === "") return;
    this.start(out);
    if (this.open?.kind !== "reasoning") {
      this.closeOpen(out, "completed");
      const item: ReasoningItemOut = { id: this.itemId("rs"), type: "reasoning", summary: [] };
      const index = this.addItem(out, item);
      this.frame(out, "response.reasoning_summary_part.added", {
        item_id: item.id,
        output_index: index,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      });
      item.summary.push({ type: "summary_text", text: "" });
      this.open = { kind: "reasoning", index, item, text: "" };
    }
    const open = this.open;
    open.text += delta;
    const part = open.item.summary[0];
    if (part) part.text = open.text;
    this.frame(out, "response.reasoning_summary_text.delta", {
      item_id: open.item.id,
      output_index: open.index,
      summary_index: 0,
      delta,
    });
  }

  /** Closes the open text or reasoning item, if any. */
  closeOpen(out: string[], status: ItemStatus): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (open.kind === "message") {
      const part = { type: "output_text", text: open.text, annotations: [], logprobs: [] };
      const ids = { item_id: open.item.id, output_index: open.index, content_index: 0 };
      this.frame(out, "response.output_text.done", { ...ids, text: open.text, logprobs: [] });
      this.frame(out, "response.content_part.done", { ...ids, part });
    } else {
      const ids = { item_id: open.item.id, output_index: open.index, summary_index: 0 };
      this.frame(out, "response.reasoning_summary_text.done", { ...ids, text: open.text });
      this.frame(out, "response.reasoning_summary_part.done", {
        ...ids,
        part: { type: "summary_text", text: open.text },
      });
    }
    open.item.status = status;
    this.frame(out, "response.output_item.done", {
      output_index: open.index,
      item: structuredClone(open.item),
    });
  }

  /** A function call begins; `key` is the adapter's handle for it (tool-call index or block index). */
  toolStart(out: string[], key: string | number, callId: string, wireName: string): void {
    this.start(out);
    if (this.calls.has(key)) return;
    this.closeOpen(out, "completed");
    const item = callItem(this.opts.names, {
      id: this.itemId("fc"),
      callId,
      wireName,
      arguments: "",
      status: "in_progress",
    });
    const index = this.addItem(out, item);
    this.calls.set(key, { index, item, args: "" });
  }

  /** False when `key` names no started call (the adapter decides what that means). */
  toolArguments(out: string[], key: string | number, delta: string): boolean {
    const call = this.calls.get(key);
    if (!call) return false;
    if (delta === "") return true;
    call.args += delta;
    // A freeform call's input is inside the JSON arguments: it is known only when they are complete.
    if (call.item.type === "custom_tool_call") return true;
    call.item.arguments = call.args;
    this.frame(out, "response.function_call_arguments.delta", {
      item_id: call.item.id,
      output_index: call.index,
      delta,
    });
    return true;
  }

  /** Ends one function call (its block ended). */
  toolEnd(out: string[], key: string | number, status: ItemStatus = "completed"): void {
    const call = this.calls.get(key);
    if (!call || call.item.status !== "in_progress") return;
    const item = call.item;
    item.status = status;
    const ids = { item_id: item.id, output_index: call.index };
    if (item.type === "custom_tool_call") {
      item.input = call.args === "" ? "" : freeformInput(call.args);
      if (item.input !== "")
        this.frame(out, "response.custom_tool_call_input.delta", { ...ids, delta: item.input });
      this.frame(out, "response.custom_tool_call_input.done", { ...ids, input: item.input });
    } else {
      this.frame(out, "response.function_call_arguments.done", {
        ...ids,
        name: item.name,
        arguments: item.arguments,
      });
    }
    this.frame(out, "response.output_item.done", { output_index: call.index, item: structuredClone(item) });
  }

  /** Closes every open item, in output order. */
  private closeAll(out: string[], status: ItemStatus): void {
    const pending: { index: number; close: () => void }[] = [];
    const open = this.open;
    if (open) pending.push({ index: open.index, close: () => this.closeOpen(out, status) });
    for (const [key, call] of this.calls) {
      if (call.item.status === "in_progress") {
        pending.push({ index: call.index, close: () => this.toolEnd(out, key, status) });
      }
    }
    pending.sort((a, b) => a.index - b.index);
    for (const p of pending) p.close();
  }

  get hasToolCalls(): boolean {
    return this.calls.size > 0;
  }

  /** The terminal event of a response that ended as the upstream meant it to. */
  finish(out: string[], finish: Finish, usage: Usage | null): void {
    if (this.ended) return;
    this.start(out);
    this.closeAll(out, finish.status === "completed" ? "completed" : "incomplete");
    this.ended = true;
    const counted = toResponsesUsage(usage ?? NO_TOKENS);
    if (finish.status === "completed") {
      this.frame(out, "response.completed", { response: this.response("completed", counted) });
    } else {
      this.frame(out, "response.incomplete", {
        response: this.response("incomplete", counted, {
          incomplete: { reason: finish.reason },
        }),
      });
    }
  }

  /**
   * The terminal events of a response that failed after the 200 was sent: `response.failed` (what Codex
   * reads) and an `error` event carrying both the documented top-level fields and the nested `error`
   * object OpenAI sends, on which openai-node throws.
   */
  fail(out: string[], message: string, code: string, usage: Usage | null): void {
    if (this.ended) return;
    this.start(out);
    this.ended = true;
    const limited =
      code === "rate_limit_exceeded" || code === "rate_limit_error" || code === "overloaded_error";
    const error = { code: limited ? "rate_limit_exceeded" : "server_error", message };
    this.frame(out, "response.failed", {
      response: this.response("failed", usage ? toResponsesUsage(usage) : null, { error }),
    });
    this.frame(out, "error", {
      code,
      message,
      param: null,
      error: { type: "upstream_error", code, message, param: null },
    });
  }
}
