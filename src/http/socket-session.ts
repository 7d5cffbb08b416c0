import { EventSourceParserStream } from "eventsource-parser/stream";
import { continueRequest, eventOutcome, turnAfter, type SocketTurn } from "../formats/responses/continuation";
import { isRecord, tryParseJson } from "../formats/sse";

/**
 * One Responses WebSocket connection (Codex's default transport): each `response.create` message is turned
 * into the `POST /v1/responses` call an HTTP client would make, with the credentials the upgrade carried,
 * and run through the whole app (key auth, limits and accounting, routing and fallbacks, translation); the
 * events of its SSE answer go back as one JSON text message each. There is no second copy of the pipeline:
 * the socket only frames.
 *
 * - Requests on a connection run one after another, as Codex sends them.
 * - `previous_response_id` naming the connection's last response is resolved here (see continuation.ts).
 * - A call the app refuses (bad key, limits, a 400, an upstream failing before its first byte) becomes the
 *   error message Codex reads as that HTTP status: `{type: "error", status, error, headers}`. A failure
 *   after the first byte is the stream's own `response.failed`, relayed like any event.
 * - A client that closes the socket cancels the call in flight, and with it the upstream request.
 */

/** Headers of the upgrade that describe the socket itself, not the calls made over it. */
const SOCKET_HEADERS = new Set([
  "host",
  "upgrade",
  "connection",
  "content-length",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  // Codex's marker for the WebSocket flavour of the API; the calls themselves are plain HTTP ones.
  "openai-beta",
  // The upgrade's own id: each call over the socket gets one of its own.
  "x-request-id",
]);

/** Response headers a client acts on after an error (retry timing, rate limits, the id to report). */
const ERROR_HEADERS = /^(retry-after|retry-after-ms|x-request-id|x-ratelimit-.*)$/;

export interface SocketSessionOptions {
  /** The URL the calls go to: the upgrade's own path, as a POST. */
  url: string;
  /** The upgrade's headers (credentials included). */
  headers: Headers;
  /** Runs one call through the app. */
  serve: (request: Request) => Promise<Response>;
}

export class ResponsesSocketSession {
  private queue: Promise<void> = Promise.resolve();
  private last: SocketTurn | null = null;
  private inFlight: AbortController | null = null;
  private closed = false;
  private readonly headers: Headers;

  constructor(
    private readonly socket: WebSocket,
    private readonly opts: SocketSessionOptions,
  ) {
    this.headers = new Headers();
    for (const [name, value] of opts.headers) if (!SOCKET_HEADERS.has(name)) this.headers.set(name, value);
    this.headers.set("content-type", "application/json");
    this.headers.set("accept", "text/event-stream");
    socket.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : null;
      this.queue = this.queue.then(() => this.handle(text));
    });
    socket.addEventListener("close", (event) => {
      this.close();
      // Completes the closing handshake the client started.
      try {
        socket.close(event.code === 1005 ? 1000 : event.code, "closed by the client");
      } catch {
        // already closed
      }
    });
    socket.addEventListener("error", () => this.close());
  }

  /** Resolves once every message received so far has been answered (for the socket's waitUntil). */
  get idle(): Promise<void> {
    return this.queue;
  }

  private close(): void {
    this.closed = true;
    this.inFlight?.abort(new Error("the client closed the WebSocket"));
  }

  private send(payload: string): void {
    if (this.closed) return;
    try {
      this.socket.send(payload);
    } catch {
      // The socket closed between the check and the send: nothing left to tell.
      this.close();
    }
  }

  private sendError(
    status: number,
    error: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): void {
    this.send(JSON.stringify({ type: "error", status, error, headers }));
  }

  private async handle(text: string | null): Promise<void> {
    if (this.closed) return;
    const message = text === null ? null : tryParseJson(text);
    if (!isRecord(message)) {
      this.sendError(400, {
        type: "invalid_request_error",
        message: "WebSocket messages must be JSON objects sent as text.",
      });
      return;
    }
    // Codex acknowledges each response it has read; there is nothing to do with that here.
    if (message.type === "response.processed") return;
    if (message.type !== "response.create") {
      this.sendError(400, {
        type: "invalid_request_error",
        param: "type",
        message: `Unsupported message type '${String(message.type).slice(0, 100)}'; send response.create.`,
      });
      return;
    }
    const request = continueRequest(message, this.last);
    if (!request.ok) {
      this.sendError(400, {
        type: "invalid_request_error",
        code: "previous_response_not_found",
        param: request.param,
        message: request.message,
      });
      return;
    }
    // A turn that fails leaves nothing to continue from.
    this.last = null;
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      await this.call(request.value, controller.signal);
    } catch (e) {
      if (!controller.signal.aborted) {
        this.sendError(500, { type: "server_error", message: "The gateway failed to handle this request." });
        console.error(
          JSON.stringify({ msg: "websocket call failed", error: e instanceof Error ? e.message : String(e) }),
        );
      }
    } finally {
      this.inFlight = null;
    }
  }

  private async call(body: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const res = await this.opts.serve(
      new Request(this.opts.url, {
        method: "POST",
        headers: this.headers,
        body: JSON.stringify(body),
        signal,
      }),
    );
    if (
      res.status !== 200 ||
      !res.body ||
      !res.headers.get("content-type")?.startsWith("text/event-stream")
    ) {
      const answer = tryParseJson(await res.text());
      const error =
        isRecord(answer) && isRecord(answer.error) ? answer.error : { message: `HTTP ${res.status}` };
      const headers: Record<string, string> = {};
      for (const [name, value] of res.headers) if (ERROR_HEADERS.test(name)) headers[name] = value;
      // A JSON 200 (a client that asked for stream: false is answered with a stream anyway) cannot happen.
      this.sendError(res.status === 200 ? 502 : res.status, error, headers);
      return;
    }
    const output: unknown[] = [];
    const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    const reader = events.getReader();
    const cancel = () => void reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.send(value.data);
        const outcome = eventOutcome(tryParseJson(value.data));
        if (outcome.kind === "item") output.push(outcome.item);
        else if (outcome.kind === "completed") this.last = turnAfter(body, outcome.responseId, output);
      }
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }
}
