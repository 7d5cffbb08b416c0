import { EventSourceParserStream } from "eventsource-parser/stream";
import type { ParsedEvent, StreamUsage } from "./types";

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
 * TextDecoderStream → EventSourceParserStream → translator → TextEncoderStream.
 *
 * A failing upstream body (connection reset, timeout abort) would otherwise error every stage after it and
 * reach the client as a broken connection with no explanation. Ending the input cleanly instead lets the
 * translator notice the missing terminal event and send an in-band error in the client's format. A client
 * that cancels still cancels the upstream body, since cancellation travels back through the pipe.
 */
export function translateSseStream(
  body: ReadableStream<Uint8Array>,
  translator: SseTranslator,
): ReadableStream<Uint8Array> {
  return endOnError(body)
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(translator)
    .pipeThrough(new TextEncoderStream());
}

/** A copy of `body` that closes where `body` would error. */
export function endOnError<T>(body: ReadableStream<T>): ReadableStream<T> {
  const relay = new TransformStream<T, T>();
  body.pipeTo(relay.writable, { preventAbort: true }).catch(() => {
    // preventAbort released the lock without touching the writable; close it so the reader sees an end.
    // A relay already errored by a client cancel refuses to close; nothing is left to tell anyone then.
    relay.writable.close().catch(() => {});
  });
  return relay.readable;
}

/**
 * Calls `onUsage` at most once: at the terminal event, at an error, at the end of input, or when the
 * client cancels, whichever comes first.
 */
export function usageReporter(
  onUsage: ((usage: StreamUsage) => void) | undefined,
): (usage: StreamUsage) => void {
  let reported = false;
  return (usage) => {
    if (reported || !onUsage) return;
    reported = true;
    try {
      onUsage(usage);
    } catch {
      // Metering is a side channel: a failing callback must not break the client's stream.
    }
  };
}
