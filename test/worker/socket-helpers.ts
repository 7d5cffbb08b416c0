import { SELF } from "cloudflare:test";
import type { Json } from "./helpers";

/**
 * A client end of the Responses WebSocket, for tests: every message is kept, and `until` waits on the
 * messages themselves (resolved from the socket's events, never by polling).
 */
export interface TestSocket {
  ws: WebSocket;
  messages: Json[];
  send(message: unknown): void;
  /** The messages from `from` up to and including the first one that satisfies `done`. */
  until(done: (m: Json) => boolean, from?: number): Promise<Json[]>;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
}

export async function upgrade(
  key: string | null,
  headers: Record<string, string> = {},
  path = "/v1/responses",
): Promise<Response> {
  return SELF.fetch(`http://gateway.test${path}`, {
    headers: { upgrade: "websocket", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
  });
}

export function socketOf(res: Response): TestSocket {
  const ws = res.webSocket;
  if (!ws) throw new Error(`no WebSocket in the answer (status ${res.status})`);
  ws.accept();
  const messages: Json[] = [];
  const waiters = new Set<() => void>();
  ws.addEventListener("message", (event) => {
    messages.push(JSON.parse(String(event.data)) as Json);
    for (const wake of waiters) wake();
  });
  const closed = new Promise<number>((resolve) => {
    ws.addEventListener("close", (event) => {
      for (const wake of waiters) wake();
      resolve(event.code);
    });
  });
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    ws,
    messages,
    closed,
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    until(done, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = messages.findIndex((m, i) => i >= from && done(m));
          if (at >= 0) {
            waiters.delete(check);
            resolve(messages.slice(from, at + 1));
          } else if (isClosed) {
            waiters.delete(check);
            reject(new Error(`socket closed after ${messages.length} messages`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export const isTerminal = (m: Json) =>
  m.type === "response.completed" || m.type === "response.failed" || m.type === "error";

/** Socket messages as the SSE text the HTTP route would have sent, for the stream checker. */
export function asSse(messages: Json[]): string {
  return messages.map((m) => `event: ${String(m.type)}\ndata: ${JSON.stringify(m)}\n\n`).join("");
}
