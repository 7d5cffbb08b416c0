import { GatewayError } from "../errors";
import { isRecord, tryParseJson } from "../formats/sse";
import type { Redactor } from "./redactor";

const MAX_ERROR_BODY = 16 * 1024;
/** How much of an upstream's own words a client gets in an error message. */
const MAX_DETAIL = 500;
/** Longest wait an upstream's retry-after is relayed and honoured with: a day. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Reads at most MAX_ERROR_BODY bytes of an error body (an upstream error page is not worth more), with
 * the secret taken out as the bytes arrive, so no cut made here or later can split a token and let its
 * beginning through.
 */
export async function readBounded(res: Response, redactor: Redactor): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const redaction = redactor.stream();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(redaction.push(value), { stream: true });
    }
  } catch {
    // A body that fails half way still leaves the status to report.
  } finally {
    reader.cancel().catch(() => {});
  }
  return (text + decoder.decode(redaction.end())).slice(0, MAX_ERROR_BODY);
}

/** The human message in an OpenAI, Anthropic or Databricks (`{error_code, message}`) error body. */
function upstreamMessage(text: string): string {
  const body = tryParseJson(text);
  if (isRecord(body)) {
    const err = body.error;
    if (isRecord(err) && typeof err.message === "string") return err.message;
    if (typeof err === "string") return err;
    if (typeof body.message === "string") return body.message;
  }
  return text.trim();
}

/** Upstream words fit for a client: the secret out (JSON escapes undone may have revealed it), one line, short. */
function detailOf(text: string, redactor: Redactor): string {
  const line = redactor
    .redact(upstreamMessage(text))
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}…` : line;
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date (IMF-fixdate and its older forms); Date.parse would also take bare numbers and the like.
  if (!/^[A-Za-z]{3,9},? .*\d{2}:\d{2}:\d{2}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date, as the SDKs read them; capped at a day. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const raw = headers.get("retry-after-ms")?.trim();
  const ms =
    raw !== undefined && /^\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : parseRetryAfter(headers.get("retry-after"), now);
  return ms === undefined || !Number.isFinite(ms) ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/**
 * The wait an upstream asked for, re-emitted by the gateway: `retry-after` as whole seconds and
 * `retry-after-ms` as whole milliseconds. Whatever else the upstream put in those headers (a date, junk,
 * a token it echoed) never reaches the client; a value that is not a wait is dropped.
 */
export function retryHeaders(headers: Headers, now = Date.now()): Record<string, string> {
  const ms = retryAfterMs(headers, now);
  if (ms === undefined) return {};
  return { "retry-after": String(Math.ceil(ms / 1000)), "retry-after-ms": String(Math.round(ms)) };
}

/**
 * Maps an upstream error response onto the gateway's error: the client learns what went wrong without
 * ever seeing the upstream credential. Only a 4xx or 5xx has words worth passing on; any other status
 * (an interim 1xx, a redirect) says only that the answer was unexpected, never what its bytes were.
 */
export async function upstreamError(res: Response, providerName: string, redactor: Redactor) {
  const status = res.status;
  const text = status >= 400 && status <= 599 ? await readBounded(res, redactor) : "";
  if (!text) await res.body?.cancel().catch(() => {});
  const detail = detailOf(text, redactor);
  const internal = `upstream ${status}: ${text.slice(0, 1000)}`;

  if (status === 401 || status === 403) {
    return new GatewayError(
      "upstream_auth",
      502,
      `Provider '${providerName}' rejected the gateway's credentials (upstream ${status}). Check the provider's secret.`,
      { internal, retryClass: "auth" },
    );
  }
  if (status === 429) {
    return new GatewayError(
      "rate_limit",
      429,
      `Provider '${providerName}' is rate limiting: ${detail || "too many requests"}`,
      {
        internal,
        headers: retryHeaders(res.headers),
        retryClass: "429",
        retryAfterMs: retryAfterMs(res.headers),
      },
    );
  }
  if (status >= 400 && status < 500) {
    return new GatewayError(
      status === 404 ? "not_found" : status === 413 ? "request_too_large" : "invalid_request",
      status,
      detail || `Provider '${providerName}' answered ${status}.`,
      { internal },
    );
  }
  if (status < 500 || status > 599) {
    return new GatewayError(
      "upstream_error",
      502,
      `Provider '${providerName}' gave an unexpected answer (status ${status}).`,
      { internal, retryClass: "5xx" },
    );
  }
  // 503 and Anthropic's 529 mean "busy": Anthropic clients (Claude Code) treat overloaded_error apart.
  return new GatewayError(
    status === 503 || status === 529 ? "overloaded" : "upstream_error",
    502,
    `Provider '${providerName}' failed (upstream ${status}${detail ? `: ${detail}` : ""}).`,
    { internal, retryClass: "5xx" },
  );
}
