import { parseSse } from "../translate/helpers";

/**
 * Reads a Responses event stream strictly: every rule Codex CLI and openai-node's ResponseStream rely on is
 * checked and each broken one recorded in `violations`, so tests can assert there are none.
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};

export interface CheckedStream {
  types: string[];
  events: Json[];
  /** The output items as the `.done` events left them. */
  items: Json[];
  /** Text concatenated from output_text deltas, per output index. */
  text: Record<number, string>;
  /** Arguments (or a custom tool's input) concatenated from deltas, per output index. */
  args: Record<number, string>;
  terminal: Json | null;
  error: Json | null;
  violations: string[];
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

export function checkResponsesStream(sse: string): CheckedStream {
  const out: CheckedStream = {
    types: [],
    events: [],
    items: [],
    text: {},
    args: {},
    terminal: null,
    error: null,
    violations: [],
  };
  const v = (m: string) => out.violations.push(m);
  const added = new Map<number, Json>();
  const done = new Set<number>();
  const parts = new Set<number>();
  let finished = false;

  for (const [n, ev] of parseSse(sse).entries()) {
    const data = obj(JSON.parse(ev.data));
    const type = String(data.type);
    out.types.push(type);
    out.events.push(data);
    if (ev.event !== type) v(`event line '${ev.event}' differs from type '${type}'`);
    if (data.sequence_number !== n) v(`sequence_number ${String(data.sequence_number)} at position ${n}`);
    if (finished && type !== "error") v(`${type} after the terminal event`);
    if (out.error) v(`${type} after the error event`);
    if (n === 0 && type !== "response.created") v(`first event is ${type}`);
    if (n === 1 && type !== "response.in_progress") v(`second event is ${type}`);
    const index = typeof data.output_index === "number" ? data.output_index : -1;
    const item = added.get(index);
    const needsItem = () => {
      if (!item) v(`${type} for output ${index} before output_item.added`);
      if (done.has(index)) v(`${type} for output ${index} after output_item.done`);
    };

    switch (type) {
      case "response.created":
      case "response.in_progress": {
        const r = obj(data.response);
        if (r.status !== "in_progress") v(`${type} with status ${String(r.status)}`);
        if (!String(r.id).startsWith("resp_")) v(`${type} with id ${String(r.id)}`);
        break;
      }
      case "response.output_item.added": {
        if (index !== added.size) v(`output_item.added with index ${index}, expected ${added.size}`);
        const it = obj(data.item);
        if (it.status !== undefined && it.status !== "in_progress")
          v(`added item with status ${String(it.status)}`);
        added.set(index, it);
        break;
      }
      case "response.content_part.added":
        needsItem();
        if (item?.type !== "message") v("content_part.added for a non-message item");
        if (data.item_id !== item?.id) v("content_part.added with a wrong item_id");
        parts.add(index);
        break;
      case "response.output_text.delta":
        needsItem();
        if (!parts.has(index)) v("output_text.delta before content_part.added");
        if (data.delta === "") v("empty output_text.delta");
        if (data.item_id !== item?.id) v("output_text.delta with a wrong item_id");
        out.text[index] = (out.text[index] ?? "") + String(data.delta);
        break;
      case "response.output_text.done":
        needsItem();
        if (data.text !== (out.text[index] ?? "")) v("output_text.done text differs from the deltas");
        break;
      case "response.content_part.done":
        needsItem();
        if (obj(data.part).text !== (out.text[index] ?? ""))
          v("content_part.done text differs from the deltas");
        break;
      case "response.reasoning_summary_part.added":
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_summary_text.done":
      case "response.reasoning_summary_part.done":
        needsItem();
        if (item?.type !== "reasoning") v(`${type} for a non-reasoning item`);
        break;
      case "response.function_call_arguments.delta":
        needsItem();
        if (item?.type !== "function_call") v("arguments delta for a non-function_call item");
        if (data.delta === "") v("empty arguments delta");
        out.args[index] = (out.args[index] ?? "") + String(data.delta);
        break;
      case "response.function_call_arguments.done":
        needsItem();
        if (data.arguments !== (out.args[index] ?? "")) v("arguments.done differs from the deltas");
        if (data.name !== item?.name) v("arguments.done with a different name");
        break;
      case "response.custom_tool_call_input.delta":
        needsItem();
        if (item?.type !== "custom_tool_call") v("custom input delta for a non-custom_tool_call item");
        if (data.delta === "") v("empty custom input delta");
        if (data.item_id !== item?.id) v("custom input delta with a wrong item_id");
        out.args[index] = (out.args[index] ?? "") + String(data.delta);
        break;
      case "response.custom_tool_call_input.done":
        needsItem();
        if (data.input !== (out.args[index] ?? "")) v("custom input done differs from the deltas");
        break;
      case "response.output_item.done": {
        needsItem();
        const it = obj(data.item);
        if (it.id !== item?.id) v("output_item.done with another id");
        if (it.type === "function_call" && it.arguments !== (out.args[index] ?? "")) {
          v("function_call item arguments differ from the deltas");
        }
        if (it.type === "custom_tool_call" && it.input !== (out.args[index] ?? "")) {
          v("custom_tool_call item input differs from the deltas");
        }
        if (it.type !== item?.type || it.name !== item?.name || it.namespace !== item?.namespace) {
          v("output_item.done names another tool than output_item.added");
        }
        if (it.type === "message") {
          const text = obj((it.content as unknown[] | undefined)?.[0]).text;
          if (text !== (out.text[index] ?? "")) v("message item text differs from the deltas");
        }
        done.add(index);
        out.items[index] = it;
        break;
      }
      case "response.completed":
      case "response.incomplete":
      case "response.failed": {
        finished = true;
        out.terminal = data;
        const r = obj(data.response);
        const output = (r.output as Json[] | undefined) ?? [];
        if (type !== "response.failed") {
          for (const i of added.keys()) if (!done.has(i)) v(`output ${i} never got output_item.done`);
          if (JSON.stringify(output) !== JSON.stringify(out.items))
            v(`${type} output differs from the done items`);
          const usage = obj(r.usage);
          for (const k of ["input_tokens", "output_tokens", "total_tokens"]) {
            if (typeof usage[k] !== "number") v(`${type} without usage.${k}`);
          }
        }
        break;
      }
      case "error":
        out.error = data;
        if (out.terminal?.type !== "response.failed") v("error event without response.failed before it");
        if (!obj(data.error).message || typeof data.message !== "string")
          v("error event without its messages");
        break;
      default:
        v(`unknown event ${type}`);
    }
  }
  if (!out.terminal) v("no terminal event");
  if (out.terminal && !TERMINAL.has(String(out.terminal.type))) v("bad terminal");
  return out;
}
