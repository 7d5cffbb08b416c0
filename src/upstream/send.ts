import { GatewayError } from "../errors";
import { DEFAULT_TIMEOUT_MS } from "../config/schemas";
import type { Redactor } from "./redactor";

export type UpstreamCall = {
  providerName: string;
  url: string;
  headers: Headers;
  body: string;
  timeoutMs: number | undefined;
  /** Aborts when the client goes away (request.signal). */
  clientSignal: AbortSignal | undefined;
  /** For the runtime's error text, which may quote what the upstream sent. */
  redactor: Redactor;
};

/** A failed fetch (or its message), for the log only: redacted, on one line, and short. */
export function fetchFailure(e: unknown, redactor: Redactor): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return redactor
    .redact(text)
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .slice(0, 300);
}

/**
 * Sends the request and waits for the response headers, for at most the provider's timeout. After the
 * headers the timer is off: a long stream is not a slow upstream. The returned response's body stays tied
 * to the client's signal, so a disconnect cancels the upstream too. Redirects are not followed: the
 * secret goes to the configured URL and nowhere else, and a 3xx is an unexpected answer like any other.
 */
export async function sendUpstream(call: UpstreamCall): Promise<Response> {
  const timeoutMs = call.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("first-byte timeout"));
  }, timeoutMs);
  const onClientAbort = () => controller.abort(new Error("client disconnected"));
  call.clientSignal?.addEventListener("abort", onClientAbort, { once: true });
  if (call.clientSignal?.aborted) onClientAbort();

  try {
    return await fetch(call.url, {
      method: "POST",
      headers: call.headers,
      body: call.body,
      signal: controller.signal,
      redirect: "manual",
    });
  } catch (e) {
    if (timedOut) {
      throw new GatewayError(
        "timeout",
        504,
        `Provider '${call.providerName}' did not answer within ${timeoutMs} ms.`,
        { retryClass: "timeout" },
      );
    }
    throw new GatewayError("upstream_error", 502, `Could not reach provider '${call.providerName}'.`, {
      internal: fetchFailure(e, call.redactor),
      retryClass: "connection",
    });
  } finally {
    clearTimeout(timer);
  }
}
