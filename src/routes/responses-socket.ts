import { Hono, type ExecutionContext } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { ResponsesSocketSession } from "../http/socket-session";

/** Runs one request through the whole app, as if it had come from outside. */
export type Serve = (request: Request, env: AppEnv["Bindings"], ctx: ExecutionContext) => Promise<Response>;

/**
 * `GET /v1/responses` with `Upgrade: websocket`: the Responses API over a WebSocket, Codex CLI's default
 * transport when its provider sets `supports_websockets = true`. The key is checked on the upgrade itself
 * (a refused key gets its 401 or 429 as a plain HTTP answer, never a socket); every `response.create` on
 * the socket is then served by `serve` as a `POST` to the same path (see http/socket-session.ts).
 */
export function responsesSocket(serve: Serve): Hono<AppEnv> {
  const route = new Hono<AppEnv>();
  route.get("/responses", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new GatewayError(
        "invalid_request",
        426,
        "GET /v1/responses is the Responses API's WebSocket upgrade; send Upgrade: websocket, or POST the request.",
        { headers: { upgrade: "websocket" } },
      );
    }
    // The key's admission (without counting a call: each response.create is one), checked here so that a
    // refused key is answered before anything is upgraded.
    await c.get("meter").probe();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    server.accept();
    const url = new URL(c.req.url);
    const session = new ResponsesSocketSession(server, {
      url: `${url.origin}${url.pathname}`,
      headers: c.req.raw.headers,
      serve: (request) => serve(request, c.env, c.executionCtx),
    });
    server.addEventListener("close", () => c.executionCtx.waitUntil(session.idle));
    return new Response(null, { status: 101, webSocket: client });
  });
  return route;
}
