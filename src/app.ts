import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv, WireFormat } from "./env";
import { GatewayError } from "./errors";
import { errorBody } from "./http/render-error";
import { keyAuth } from "./http/key-auth";
import { admin } from "./routes/admin";
import { chat } from "./routes/chat";
import { completions } from "./routes/completions";
import { embeddings } from "./routes/embeddings";
import { messages } from "./routes/messages";
import { models } from "./routes/models";
import { responses } from "./routes/responses";
import { responsesSocket } from "./routes/responses-socket";
import { apiDocs } from "./routes/docs";
import { BASE_URLS } from "./routes/base-urls";

/** Coding agents send long histories and images; Anthropic itself accepts request bodies up to 32 MB. */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Anthropic clients get Anthropic-shaped errors from the first middleware on, auth failures included. */
function wireFormatOf(path: string, headers: Headers): WireFormat {
  if (path.startsWith("/anthropic/") || /^\/v1\/messages(\/|$)/.test(path)) return "anthropic";
  // /v1/models serves both SDKs; the Anthropic SDK always sends anthropic-version.
  if (/^\/v1\/models(\/|$)/.test(path) && headers.has("anthropic-version")) return "anthropic";
  return "openai";
}

const api = new Hono<AppEnv>();
api.use("*", (c, next) => {
  const max = Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
  return bodyLimit({
    maxSize: max,
    onError: () => {
      throw new GatewayError("request_too_large", 413, `The request body is larger than ${max} bytes.`);
    },
  })(c, next);
});
api.use("*", keyAuth);
api.route("/", chat);
api.route("/", messages);
api.route("/", models);
api.route("/", embeddings);
api.route("/", completions);
api.route("/", responses);
// Each response.create on a socket is served by the whole app, exactly as the same POST would be.
api.route(
  "/",
  responsesSocket((request, env, ctx) => Promise.resolve(app.fetch(request, env, ctx))),
);

export const app = new Hono<AppEnv>();

app.use("*", requestId({ headerName: "x-request-id" }));
app.use("*", async (c, next) => {
  c.set("wireFormat", wireFormatOf(c.req.path, c.req.raw.headers));
  await next();
});

app.get("/health", (c) => c.json({ ok: true }));
for (const path of BASE_URLS) app.on(["GET", "HEAD"], path, (c) => c.json({ ok: true, name: "bricklane" }));
app.route("/", apiDocs);
app.route("/admin", admin);
app.route("/v1", api);
app.route("/openai/v1", api);
app.route("/anthropic/v1", api);

app.notFound((c) => {
  throw new GatewayError("not_found", 404, `No route for ${c.req.method} ${c.req.path}.`);
});

/** The one place errors become responses: in the client's wire format, with the request id, no internals. */
app.onError((err, c) => {
  const format = c.get("wireFormat") ?? "openai";
  const requestId = c.get("requestId");
  let error: GatewayError;
  if (err instanceof GatewayError) error = err;
  else if (err instanceof HTTPException && err.status < 500) {
    error = new GatewayError(
      err.status === 413 ? "request_too_large" : "invalid_request",
      err.status,
      err.message,
    );
  } else {
    error = new GatewayError("internal", 500, "The gateway failed to handle this request.", {
      internal: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
  if (error.internal || error.status >= 500) {
    console.error(
      JSON.stringify({
        msg: "error",
        requestId,
        code: error.code,
        status: error.status,
        internal: error.internal,
      }),
    );
  }
  return c.json(errorBody(format, error), error.status as 400, {
    ...error.headers,
    "x-request-id": requestId,
  });
});
