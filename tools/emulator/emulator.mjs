// @ts-check
/**
 * A local Databricks AI Gateway emulator (loopback only): OpenAI-format /mlflow, Anthropic-format
 * /anthropic, Unity Catalog model listing, fault injection and request recording. See docs/emulator.md.
 */
import { createServer } from "node:http";
import { anthropicError, countTokens, messages } from "./anthropic.mjs";
import { completions } from "./completions.mjs";
import { Waiters, control } from "./control.mjs";
import { FaultError, FaultQueue, echoedValue, parseFault, takeFault, withEcho } from "./faults.mjs";
import {
  clientGoneSignal,
  isLoopbackHost,
  parseJson,
  plainHeaders,
  readBody,
  sendJson,
  sendText,
  sleep,
  untilAborted,
} from "./http.mjs";
import { oauthServer } from "./oauth.mjs";
import { chatCompletions, embeddings, openaiError } from "./openai.mjs";
import { databricksError, listModels } from "./unity-catalog.mjs";

/** @typedef {import("./control.mjs").RecordedRequest} RecordedRequest */
/** @typedef {import("./faults.mjs").Fault} Fault */
/** @typedef {"openai" | "anthropic" | "databricks"} ErrorFormat */
/**
 * @typedef {object} Route
 * @property {(ctx: import("./openai.mjs").HandlerContext) => Promise<void>} handler
 * @property {boolean} model true for model requests, which take a fault from the queue
 */
/**
 * @typedef {object} Emulator
 * @property {string} url e.g. http://127.0.0.1:8788 (no trailing slash)
 * @property {number} port
 * @property {RecordedRequest[]} requests recorded API requests (live array, oldest first)
 * @property {() => void} clearRequests
 * @property {(match: (r: RecordedRequest) => boolean, signal?: AbortSignal) => Promise<RecordedRequest | null>} whenClosed
 *   resolves with the first recorded request matching `match` once its client has gone away
 * @property {(...specs: (string | Fault)[]) => void} queueFaults queue faults for the next model requests
 * @property {() => void} clearFaults
 * @property {import("./oauth.mjs").OAuthState} oauth the service principal's token endpoint
 * @property {() => Promise<void>} close
 */

export const DEFAULT_PAT = "dapi-local-emulator-pat";
export const FAULT_HEADER = "x-emulator-fault";

/** @type {Record<string, Route>} */
const ROUTES = {
  "POST /mlflow/v1/chat/completions": { handler: chatCompletions, model: true },
  "POST /mlflow/v1/embeddings": { handler: embeddings, model: true },
  "POST /mlflow/v1/completions": { handler: completions, model: true },
  "POST /anthropic/v1/messages": { handler: messages, model: true },
  "POST /anthropic/v1/messages/count_tokens": { handler: countTokens, model: true },
  "GET /api/2.1/unity-catalog/models": { handler: listModels, model: false },
};

/** @param {string} path @returns {ErrorFormat} */
const formatFor = (path) =>
  path.startsWith("/mlflow/") ? "openai" : path.startsWith("/anthropic/") ? "anthropic" : "databricks";

/** @type {Record<number, string>} */
const DATABRICKS_CODES = {
  400: "INVALID_PARAMETER_VALUE",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "ENDPOINT_NOT_FOUND",
  429: "REQUEST_LIMIT_EXCEEDED",
};

/**
 * An error body in the endpoint's format.
 * @param {ErrorFormat} format
 * @param {number} status
 * @param {string} message
 */
export function errorBody(format, status, message) {
  if (format === "openai") return openaiError(status, message);
  if (format === "anthropic") return anthropicError(status, message);
  return databricksError(
    DATABRICKS_CODES[status] ?? (status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST"),
    message,
  );
}

const TOKEN_PATH = "/oidc/v1/token";

/**
 * Starts the emulator.
 * @param {{ port?: number, host?: string, pat?: string, maxRecorded?: number, oauth?: { clientId?: string, clientSecret?: string, lifetimeS?: number } }} [options]
 *   maxRecorded: how many requests are kept (oldest dropped first), default 10000;
 *   oauth: the one service principal the token endpoint knows, and its tokens' lifetime
 * @returns {Promise<Emulator>}
 */
export async function startEmulator({
  port = 0,
  host = "127.0.0.1",
  pat = DEFAULT_PAT,
  maxRecorded = 10_000,
  oauth: oauthOptions = {},
} = {}) {
  if (!isLoopbackHost(host)) throw new Error(`emulator: refusing to bind non-loopback host '${host}'`);
  /** @type {RecordedRequest[]} */
  const requests = [];
  const faults = new FaultQueue();
  const waiters = new Waiters();
  const oauth = oauthServer(oauthOptions);
  let seq = 0;
  /** API requests being answered right now (a stream stops counting once it ends or the client goes). */
  let inFlight = 0;
  /**
   * Resolves with the first recorded request matching `match` whose client has gone away, at once or when
   * it happens; `signal` stops the wait (then null).
   * @param {(r: RecordedRequest) => boolean} match
   * @param {AbortSignal} [signal]
   * @returns {Promise<RecordedRequest | null>}
   */
  async function whenClosed(match, signal = new AbortController().signal) {
    /** @param {RecordedRequest} r */
    const reached = (r) => r.clientClosed && match(r);
    if (!requests.some(reached)) await waiters.wait(reached, signal);
    return requests.find(reached) ?? null;
  }

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async function handle(req, res) {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    if (url.pathname.startsWith("/__emulator/")) {
      return control(req, res, url, { requests, faults, oauth, inFlight: () => inFlight, waiters });
    }

    const signal = clientGoneSignal(res);
    const raw = await readBody(req);
    const isTokenRequest = req.method === "POST" && url.pathname === TOKEN_PATH;
    const parsed = raw === null ? { ok: false } : isTokenRequest ? { ok: true } : parseJson(raw);
    // A token request's form body is recorded as an object (without the secret, which travels as Basic).
    const body = isTokenRequest
      ? Object.fromEntries(new URLSearchParams(raw?.toString("utf8") ?? ""))
      : "value" in parsed
        ? parsed.value
        : undefined;
    /** @type {RecordedRequest} */
    const recorded = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: plainHeaders(req),
      body: body ?? null,
      clientClosed: false,
    };
    requests.push(recorded);
    waiters.notify(recorded);
    // Tests check that a client disconnect at the gateway reaches the upstream as a closed connection.
    signal.addEventListener(
      "abort",
      () => {
        recorded.clientClosed = true;
        waiters.notify(recorded);
      },
      { once: true },
    );
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);

    if (isTokenRequest) return oauth.token(req, raw, res);

    const format = formatFor(url.pathname);
    const route = ROUTES[`${req.method} ${url.pathname}`];
    if (!route) {
      return sendJson(
        res,
        404,
        errorBody(format, 404, `emulator: no endpoint ${req.method} ${url.pathname}`),
      );
    }
    if (req.headers.authorization !== `Bearer ${pat}` && !oauth.accepts(req.headers.authorization)) {
      return sendJson(res, 401, errorBody(format, 401, "emulator: missing or invalid bearer token"));
    }
    if (raw === null) return sendJson(res, 413, errorBody(format, 413, "emulator: request body too large"));

    /** @type {Fault} */
    let fault;
    const header = req.headers[FAULT_HEADER];
    const headerValue = Array.isArray(header) ? header.join(";") : header;
    try {
      fault = route.model ? takeFault(faults, headerValue) : parseFault(headerValue ?? "");
    } catch (err) {
      if (!(err instanceof FaultError)) throw err;
      return sendJson(res, 400, errorBody(format, 400, `emulator: ${err.message}`));
    }
    if (fault.hang) return untilAborted(signal);
    if (fault.delay_ms && !(await sleep(fault.delay_ms, signal))) return;
    fault.echoed = echoedValue(fault, req.headers.authorization ?? "");
    if (fault.echoed && fault.echo_headers) res.setHeader("x-emulator-echo", fault.echoed);
    if (fault.status !== undefined) {
      /** @type {Record<string, string>} */
      const headers = {};
      if (fault.status === 429 || fault.retry_after !== undefined) {
        headers["retry-after"] = String(fault.retry_after ?? 1);
      }
      if (fault.echoed && fault.echo_headers) {
        headers["retry-after"] = fault.echoed;
        headers["retry-after-ms"] = fault.echoed;
      }
      const message = withEcho(`emulator: injected fault (status ${fault.status})`, fault);
      if (fault.error_body === "text") return sendText(res, fault.status, message, headers);
      return sendJson(res, fault.status, errorBody(format, fault.status, message), headers);
    }
    if (!parsed.ok) return sendJson(res, 400, errorBody(format, 400, "emulator: malformed JSON body"));

    seq++;
    await route.handler({ res, body, fault, signal, seq, url, headers: req.headers });
  }

  const server = createServer((req, res) => {
    const api = !(req.url ?? "").startsWith("/__emulator/");
    if (api) inFlight++;
    handle(req, res)
      .catch((err) => {
        console.error("emulator: handler failed:", err);
        if (!res.headersSent) sendJson(res, 500, { error: "emulator internal error" });
        else res.destroy();
      })
      .finally(() => {
        if (api) inFlight--;
      });
  });
  // Longer than any client's idle timeout, so the emulator never closes a connection being reused.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("emulator: no TCP address");
  /** @type {Promise<void> | undefined} */
  let closing;
  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostInUrl}:${address.port}`,
    port: address.port,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    whenClosed,
    queueFaults: (...specs) => faults.push(...specs.map(parseFault)),
    clearFaults: () => faults.clear(),
    oauth,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
