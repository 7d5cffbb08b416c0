import { EventSourceParserStream } from "eventsource-parser/stream";
import { guardedBody, type GuardHooks } from "../../upstream/guarded-body";
import type { Usage } from "../usage";
import type { ParsedEvent } from "./types";

/** SSE framing shared by the two stream translators, and the byte-level plumbing around them. */

export type SseTranslator = TransformStream<ParsedEvent, string>;

/** OpenAI frames carry no `event:` line. */
export function openAiFrame(payload: object): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const OPENAI_DONE = "data: [DONE]\n\n";

/** The Anthropic SDK dispatches on the `event:` line and silently drops frames without one. */
export function anthropicFrame(payload: { type: string; [key: string]: unknown }): string {
  return `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** What the OpenAI SDK throws on: any data frame with an `error` key. */
export function openAiErrorFrame(message: string, code: string, type = "upstream_error"): string {
  return openAiFrame({ error: { message, type, code } });
}

export function anthropicErrorFrame(type: "api_error" | "overloaded_error", message: string): string {
  return anthropicFrame({ type: "error", error: { type, message } });
}

/**
 * Upstream bytes → translated client bytes:
 * guarded body → TextDecoderStream → EventSourceParserStream → translator → TextEncoderStream.
 *
 * The guard turns a failing upstream body (connection reset, timeout abort) into a clean end, so the
 * translator notices the missing terminal event and answers it in-band in the client's format instead of
 * the client seeing a broken connection. A client that cancels still
 * cancels the upstream body, since cancellation travels back through the pipe.
 */
export function translateSseStream(
  body: ReadableStream<Uint8Array>,
  translator: SseTranslator,
  hooks: GuardHooks = {},
): ReadableStream<Uint8Array> {
  return guardedBody(body, hooks)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(translator)
    .pipeThrough(new TextEncoderStream());
}

/**
 * How a stream translator hands over the usage the upstream reported (null if none) when its stream is
 * over; `cancelled` when it is over because the client left before the end.
 */
export type UsageCallback = (usage: Usage | null, cancelled?: boolean) => void;

/**
 * Calls `onUsage` at most once: at the terminal event, at an error, at the end of input, or when the
 * client cancels, whichever comes first.
 */
export function usageReporter(onUsage: UsageCallback | undefined): UsageCallback {
  let reported = false;
  return (usage, cancelled) => {
    if (reported || !onUsage) return;
    reported = true;
    try {
      onUsage(usage, cancelled);
    } catch {
      // Metering is a side channel: a failing callback must not break the client's stream.
    }
  };
}
