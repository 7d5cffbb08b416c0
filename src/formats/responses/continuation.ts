import { isRecord } from "../sse";
import { fail } from "../translate/mapping";
import type { Result } from "../translate/types";

/**
 * `previous_response_id` within one WebSocket connection.
 *
 * Over its WebSocket transport Codex sends, after the first request on a connection, only what is new:
 * `previous_response_id` names the response it got last on that connection, and `input` holds the items
 * added since, that is after the previous request's input and the output items of that response. The
 * gateway keeps that one last turn per connection (in the socket's memory, nothing is stored) and rebuilds
 * the whole request from it, so the call that goes on is the same stateless call an HTTP client sends.
 */

/** The last response on a connection: its id, and the whole input the next request continues from. */
export interface SocketTurn {
  responseId: string;
  /** The request's whole input followed by the response's output items. */
  history: unknown[];
}

const asItems = (input: unknown): unknown[] =>
  typeof input === "string"
    ? [{ type: "message", role: "user", content: input }]
    : Array.isArray(input)
      ? input
      : [];

/**
 * The whole request a `response.create` message stands for: its fields without the message `type`, with
 * `stream: true` (the socket carries events), and its input put after the last turn's when it continues
 * it. Naming any other response is refused: the gateway cannot know what it held.
 */
export function continueRequest(
  message: Record<string, unknown>,
  last: SocketTurn | null,
): Result<Record<string, unknown>> {
  const { type: _type, previous_response_id: previous, ...request } = message;
  request.stream = true;
  if (previous == null) return { ok: true, value: request };
  if (typeof previous !== "string" || last === null || previous !== last.responseId) {
    return fail(
      `previous_response_id '${String(previous).slice(0, 100)}' is not the last response on this connection; this gateway keeps no other. Send the whole conversation in input.`,
      "previous_response_id",
    );
  }
  return { ok: true, value: { ...request, input: [...last.history, ...asItems(request.input)] } };
}

/** The turn a completed response leaves on its connection. */
export function turnAfter(
  request: Record<string, unknown>,
  responseId: string,
  output: unknown[],
): SocketTurn {
  return { responseId, history: [...asItems(request.input), ...output] };
}

/** What a Responses event on the socket means for the connection's turn: an output item, or the end. */
export function eventOutcome(
  data: unknown,
): { kind: "item"; item: unknown } | { kind: "completed"; responseId: string } | { kind: "other" } {
  if (!isRecord(data)) return { kind: "other" };
  if (data.type === "response.output_item.done" && isRecord(data.item))
    return { kind: "item", item: data.item };
  if (data.type === "response.completed" && isRecord(data.response) && typeof data.response.id === "string") {
    return { kind: "completed", responseId: data.response.id };
  }
  return { kind: "other" };
}
