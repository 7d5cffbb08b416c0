import { createParser } from "eventsource-parser";
import { translateSseStream, type SseTranslator } from "../../../src/formats/translate/sse";
import type { ParsedEvent } from "../../../src/formats/translate/types";

/** Test helpers: feed bytes through a translator, parse what comes out, and assemble it while checking it. */

export const encoder = new TextEncoder();

/** Splits bytes at arbitrary points (including inside a multi-byte UTF-8 character), as a network would. */
export function splitBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) parts.push(bytes.slice(last, p));
    last = p;
  }
  return parts;
}

export function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(p);
      controller.close();
    },
  });
}

/** A body that delivers `parts`, one per read, and then fails, like a reset connection. */
export function failingStreamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  const queue = [...parts];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      // Erroring discards whatever is still queued, so fail only once every part has been read.
      if (next) controller.enqueue(next);
      else controller.error(new Error("connection reset"));
    },
  });
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let out = "";
  for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

export async function translate(
  input: string | Uint8Array[],
  translator: SseTranslator,
  cuts: number[] = [],
): Promise<string> {
  const parts = typeof input === "string" ? splitBytes(encoder.encode(input), cuts) : input;
  return readAll(translateSseStream(streamOf(parts), translator));
}

/** Parses SSE text with the same library the gateway uses; also returns each frame's raw text. */
export function parseSse(text: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  parser.feed(text);
  return events;
}

/** Turns a list of frames (objects, or `[DONE]`) into OpenAI SSE text. */
export function openAiSse(frames: (object | "[DONE]")[]): string {
  return frames.map((f) => `data: ${typeof f === "string" ? f : JSON.stringify(f)}\n\n`).join("");
}

/** Turns a list of Anthropic events into SSE text with both `event:` and `data:` lines. */
export function anthropicSse(events: { type: string }[]): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

// ---------------------------------------------------------------------------------------------------
// Assembling OpenAI output

export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface AssembledOpenAi {
  role: string | undefined;
  content: string;
  reasoning: string;
  toolCalls: AssembledToolCall[];
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  error: { message: string; type: string; code: string } | null;
  done: boolean;
  /** Broken rules: empty deltas, a chunk before the role, tool-call index gaps, frames after the end. */
  violations: string[];
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function assembleOpenAi(text: string): AssembledOpenAi {
  const out: AssembledOpenAi = {
    role: undefined,
    content: "",
    reasoning: "",
    toolCalls: [],
    finishReason: null,
    usage: null,
    error: null,
    done: false,
    violations: [],
  };
  for (const ev of parseSse(text)) {
    if (ev.event !== undefined) out.violations.push(`OpenAI frame with an event line: ${ev.event}`);
    if (out.done || out.error) out.violations.push(`frame after the end: ${ev.data}`);
    if (ev.data === "[DONE]") {
      out.done = true;
      continue;
    }
    const chunk = obj(JSON.parse(ev.data));
    if (chunk.error) {
      out.error = chunk.error as AssembledOpenAi["error"];
      continue;
    }
    if (chunk.usage) out.usage = chunk.usage as AssembledOpenAi["usage"];
    const choices = arr(chunk.choices);
    if (choices.length === 0 && !chunk.usage) out.violations.push("chunk with neither choices nor usage");
    for (const c of choices) {
      const choice = obj(c);
      const delta = obj(choice.delta);
      const keys = Object.keys(delta);
      if (keys.length === 0 && !choice.finish_reason) out.violations.push("empty delta");
      if (typeof delta.content === "string" && delta.content === "" && !delta.role) {
        out.violations.push("empty content delta");
      }
      if (out.role === undefined && delta.role === undefined) out.violations.push("chunk before the role");
      if (typeof delta.role === "string") out.role = delta.role;
      if (typeof delta.content === "string") out.content += delta.content;
      if (typeof delta.reasoning_content === "string") out.reasoning += delta.reasoning_content;
      for (const t of arr(delta.tool_calls)) {
        const call = obj(t);
        const fn = obj(call.function);
        const index = call.index;
        if (typeof index !== "number") {
          out.violations.push("tool call without index");
          continue;
        }
        if (index === out.toolCalls.length) {
          if (typeof call.id !== "string" || call.type !== "function" || typeof fn.name !== "string") {
            out.violations.push(`tool call ${index} starts without id, type or name`);
          }
          out.toolCalls.push({ id: String(call.id), name: String(fn.name), arguments: "" });
        } else if (index > out.toolCalls.length) {
          out.violations.push(`tool call index ${index} skips ahead`);
          continue;
        }
        const entry = out.toolCalls[index];
        if (entry && typeof fn.arguments === "string") entry.arguments += fn.arguments;
      }
      if (typeof choice.finish_reason === "string") {
        if (out.finishReason !== null) out.violations.push("second finish_reason");
        out.finishReason = choice.finish_reason;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Assembling Anthropic output

export type AssembledBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; json: string };

export interface AssembledAnthropic {
  id: string | undefined;
  blocks: AssembledBlock[];
  stopReason: string | null;
  usage: Json | null;
  error: { type: string; message: string } | null;
  stopped: boolean;
  /** Broken rules: indices out of order, two open blocks, empty deltas, frames after the end, ... */
  violations: string[];
}

export function assembleAnthropic(text: string): AssembledAnthropic {
  const out: AssembledAnthropic = {
    id: undefined,
    blocks: [],
    stopReason: null,
    usage: null,
    error: null,
    stopped: false,
    violations: [],
  };
  let open: number | null = null;
  let started = false;
  for (const ev of parseSse(text)) {
    const data = obj(JSON.parse(ev.data));
    if (ev.event !== data.type)
      out.violations.push(`event line ${ev.event} differs from type ${String(data.type)}`);
    if (out.stopped || out.error) out.violations.push(`event after the end: ${ev.data}`);
    if (!started && data.type !== "message_start")
      out.violations.push(`${String(data.type)} before message_start`);
    switch (data.type) {
      case "message_start":
        if (started) out.violations.push("second message_start");
        started = true;
        out.id = String(obj(data.message).id);
        break;
      case "content_block_start": {
        if (open !== null) out.violations.push(`block ${String(data.index)} starts while ${open} is open`);
        if (data.index !== out.blocks.length)
          out.violations.push(`block index ${String(data.index)} out of order`);
        const b = obj(data.content_block);
        if (b.type === "text") out.blocks.push({ type: "text", text: String(b.text ?? "") });
        else if (b.type === "thinking") out.blocks.push({ type: "thinking", thinking: "", signature: "" });
        else if (b.type === "tool_use")
          out.blocks.push({ type: "tool_use", id: String(b.id), name: String(b.name), json: "" });
        else out.violations.push(`unknown block type ${String(b.type)}`);
        open = Number(data.index);
        break;
      }
      case "content_block_delta": {
        if (data.index !== open)
          out.violations.push(`delta for block ${String(data.index)} while ${open} is open`);
        const d = obj(data.delta);
        const block = out.blocks[Number(data.index)];
        if (d.type === "text_delta" && block?.type === "text") {
          if (d.text === "") out.violations.push("empty text_delta");
          block.text += String(d.text);
        } else if (d.type === "input_json_delta" && block?.type === "tool_use") {
          if (d.partial_json === "") out.violations.push("empty input_json_delta");
          block.json += String(d.partial_json);
        } else if (d.type === "thinking_delta" && block?.type === "thinking") {
          if (d.thinking === "") out.violations.push("empty thinking_delta");
          block.thinking += String(d.thinking);
        } else if (d.type === "signature_delta" && block?.type === "thinking") {
          block.signature = String(d.signature);
        } else out.violations.push(`delta ${String(d.type)} does not fit block ${String(data.index)}`);
        break;
      }
      case "content_block_stop":
        if (data.index !== open)
          out.violations.push(`stop for block ${String(data.index)} while ${open} is open`);
        open = null;
        break;
      case "message_delta":
        if (open !== null) out.violations.push("message_delta while a block is open");
        if (out.stopReason !== null) out.violations.push("second message_delta");
        out.stopReason = String(obj(data.delta).stop_reason);
        out.usage = obj(data.usage);
        break;
      case "message_stop":
        if (out.stopReason === null) out.violations.push("message_stop without message_delta");
        out.stopped = true;
        break;
      case "error":
        out.error = obj(data.error) as AssembledAnthropic["error"];
        break;
      default:
        out.violations.push(`unknown event ${String(data.type)}`);
    }
  }
  if (!out.stopped && !out.error) out.violations.push("ended with neither message_stop nor error");
  return out;
}
