/**
 * The gateway's one error type. `message` is safe to show a client; `internal` is logged only.
 * Rendering into the client's wire format happens in one place: app.onError (see http/render-error.ts).
 */
export type ErrorCode =
  | "invalid_request"
  | "authentication"
  | "permission"
  | "not_found"
  | "request_too_large"
  | "rate_limit"
  | "upstream_auth"
  | "upstream_error"
  | "overloaded"
  | "timeout"
  | "config"
  | "internal";

/** One problem with a request: where (`limits.rpm`, `routes.claude.destinations[0].provider`) and what. */
export type Issue = { path: string; message: string };

/** Kinds of upstream failure, as a route's `retryOn` names them. */
export type RetryClass = "429" | "5xx" | "timeout" | "connection" | "auth";

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** OpenAI's `param`, where one field is at fault. */
  readonly param: string | null;
  /** Never sent to the client; logged with the request id. */
  readonly internal: string | undefined;
  /** Headers to add to the error response (e.g. retry-after). */
  readonly headers: Record<string, string>;
  /** Set on upstream failures a route may retry or fall back from; absent for the client's own errors. */
  readonly retryClass: RetryClass | undefined;
  /** How long the upstream (or a provider cap) asked us to wait, if it said. */
  readonly retryAfterMs: number | undefined;
  /** Every problem found, when there may be several (validation, references); rendered as `error.issues`. */
  readonly issues: Issue[] | undefined;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    opts: {
      param?: string | null;
      internal?: string;
      headers?: Record<string, string>;
      retryClass?: RetryClass;
      retryAfterMs?: number;
      issues?: Issue[];
    } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.status = status;
    this.param = opts.param ?? null;
    this.internal = opts.internal;
    this.headers = opts.headers ?? {};
    this.retryClass = opts.retryClass;
    this.retryAfterMs = opts.retryAfterMs;
    this.issues = opts.issues;
  }
}

export const badRequest = (message: string, param?: string): GatewayError =>
  new GatewayError("invalid_request", 400, message, { param: param ?? null });
