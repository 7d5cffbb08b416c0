import { isRecord } from "../sse";
import { contentParts } from "../translate/mapping";
import { usageReporter, type SseTranslator, type UsageCallback } from "../translate/sse";
import { OaiChunkIn, type ParsedEvent } from "../translate/types";
import { fromOpenAiUsage, type Usage } from "../usage";
import { ResponsesWriter, type Finish, type WriterOptions } from "./writer";

export interface ChatToResponsesStreamOptions extends WriterOptions {
  /** Called once when the stream ends, however it ends, with the upstream's usage (null: none). */
  onUsage?: UsageCallback;
}

/** Chat Completions finish_reason → how the response ends. */
export function finishFromChat(finishReason: string | null | undefined): Finish {
  if (finishReason === "length") return { status: "incomplete", reason: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", reason: "content_filter" };
  return { status: "completed" };
}

/** A tool call seen in chunks, until its name is known and its item can be announced. */
type PendingCall = { id: string | null; name: string | null; args: string; started: boolean };

/**
 * OpenAI Chat Completions SSE (the gateway asks for `include_usage`) → Responses SSE events.
 *
 * `content` (and Databricks-style text parts) → output_text deltas of a message item; `reasoning_content`,
 * `reasoning` and reasoning parts → a reasoning item's summary text; each tool-call `index` → one
 * function_call item, announced once its name is known (arguments that came earlier are kept) and fed
 * argument deltas, interleaved or not. The response ends at `[DONE]`, or at the end of input after a
 * finish_reason, with `response.completed` (or `response.incomplete` for `length` / `content_filter`)
 * carrying the usage of the usage chunk. An upstream error, an unreadable chunk, or input that ends without
 * a finish_reason → `response.failed` + `error`.
 */
export function chatSseToResponsesSse(opts: ChatToResponsesStreamOptions): SseTranslator {
  const writer = new ResponsesWriter(opts);
  const report = usageReporter(opts.onUsage);
  let usage: Usage | null = null;
  let finishReason: string | null = null;
  const calls = new Map<number, PendingCall>();

  function fail(out: string[], message: string, code: string): void {
    writer.fail(out, message, code, usage);
    report(usage);
  }

  function complete(out: string[]): void {
    writer.finish(out, finishFromChat(finishReason), usage);
    report(usage);
  }

  type ToolDelta = NonNullable<
    NonNullable<NonNullable<NonNullable<OaiChunkIn["choices"]>[number]["delta"]>["tool_calls"]>[number]
  >;

  function toolDelta(out: string[], t: ToolDelta): void {
    const key = t.index ?? 0;
    let call = calls.get(key);
    if (!call) {
      call = { id: null, name: null, args: "", started: false };
      calls.set(key, call);
    }
    if (t.id) call.id ??= t.id;
    if (t.function?.name) call.name ??= t.function.name;
    const args = t.function?.arguments ?? "";
    if (call.started) {
      writer.toolArguments(out, key, args);
      return;
    }
    call.args += args;
    if (call.name !== null) {
      call.started = true;
      writer.toolStart(out, key, call.id ?? `call_${key}`, call.name);
      writer.toolArguments(out, key, call.args);
      call.args = "";
    }
  }

  function handle(ev: ParsedEvent): string[] {
    const out: string[] = [];
    if (ev.data.trim() === "[DONE]") {
      complete(out);
      return out;
    }
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      fail(out, "upstream sent an event that is not valid JSON", "malformed_upstream_event");
      return out;
    }
    if (!isRecord(data)) {
      fail(out, "upstream sent an event that is not a JSON object", "malformed_upstream_event");
      return out;
    }
    if ("error" in data || ev.event === "error") {
      const inner = isRecord(data.error) ? data.error : data;
      const message = typeof inner.message === "string" ? inner.message : "upstream error";
      const code =
        typeof inner.code === "string"
          ? inner.code
          : typeof inner.type === "string"
            ? inner.type
            : "upstream_error";
      fail(out, `upstream error: ${message}`, code);
      return out;
    }
    const parsed = OaiChunkIn.safeParse(data);
    if (!parsed.success) {
      fail(out, "upstream sent a malformed chunk", "malformed_upstream_event");
      return out;
    }
    const chunk = parsed.data;
    if (chunk.usage) usage = fromOpenAiUsage(chunk.usage);
    writer.start(out);
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0) ?? chunk.choices?.[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) writer.reasoning(out, reasoning);
      for (const part of contentParts(delta.content)) {
        if (part.type === "text") writer.text(out, part.text);
        else if (part.type === "reasoning") for (const s of part.summary) writer.reasoning(out, s.text ?? "");
      }
      if (delta.refusal) writer.text(out, delta.refusal);
      for (const t of delta.tool_calls ?? []) toolDelta(out, t);
    }
    if (choice.finish_reason) finishReason = choice.finish_reason;
    return out;
  }

  return new TransformStream<ParsedEvent, string>({
    transform(ev, controller) {
      if (writer.ended) return;
      for (const frame of handle(ev)) controller.enqueue(frame);
    },
    flush(controller) {
      const out: string[] = [];
      if (!writer.ended) {
        // A finish_reason and a clean end without [DONE] is a complete answer (several servers omit it).
        if (finishReason !== null) complete(out);
        else fail(out, "upstream stream ended before the response was complete", "stream_truncated");
      }
      for (const frame of out) controller.enqueue(frame);
      report(usage);
    },
    cancel() {
      report(usage, true);
    },
  });
}
