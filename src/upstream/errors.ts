import { GatewayError } from "../errors";
import { isRecord, tryParseJson } from "../formats/sse";

const MAX_ERROR_BODY = 16 * 1024;

/** Reads at most MAX_ERROR_BODY bytes of an error body: an upstream error page is not worth more. */
export async function readBounded(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that fails half way still leaves the status to report.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, MAX_ERROR_BODY);
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
  return text.trim().slice(0, 500);
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date, as the SDKs read them. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.has("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Removes credentials from text that came from upstream, in case an upstream echoes one: the bearer
 * secret, or an OAuth access token and the client secret behind it.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("[redacted]");
  return out;
}

/**
 * Maps an upstream error response onto the gateway's error (invariant 5): the client learns what went
 * wrong without ever seeing the upstream credential.
 */
export async function upstreamError(res: Response, providerName: string, secrets: readonly string[]) {
  const text = await readBounded(res);
  const detail = redact(upstreamMessage(text), secrets);
  const internal = `upstream ${res.status}: ${redact(text.slice(0, 1000), secrets)}`;
  const status = res.status;

  if (status === 401 || status === 403) {
    return new GatewayError(
      "upstream_auth",
      502,
      `Provider '${providerName}' rejected the gateway's credentials (upstream ${status}). Check the provider's secret.`,
      { internal, retryClass: "auth" },
    );
  }
  if (status === 429) {
    const headers: Record<string, string> = {};
    for (const name of ["retry-after", "retry-after-ms"]) {
      const value = res.headers.get(name);
      if (value) headers[name] = value;
    }
    return new GatewayError(
      "rate_limit",
      429,
      `Provider '${providerName}' is rate limiting: ${detail || "too many requests"}`,
      { internal, headers, retryClass: "429", retryAfterMs: retryAfterMs(res.headers) },
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
  // 503 and Anthropic's 529 mean "busy": Anthropic clients (Claude Code) treat overloaded_error apart.
  return new GatewayError(
    status === 503 || status === 529 ? "overloaded" : "upstream_error",
    502,
    `Provider '${providerName}' failed (upstream ${status}${detail ? `: ${detail}` : ""}).`,
    { internal, retryClass: "5xx" },
  );
}
