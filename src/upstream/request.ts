import type { Provider } from "../config/schemas";
import { forwardableHeaders } from "./headers";

const ANTHROPIC_VERSION = "2023-06-01";

/** `{baseUrl}{path}`: the gateway appends the API path, as Bifrost does with custom providers. */
export function upstreamUrl(provider: Provider, path: string): string {
  return provider.baseUrl.replace(/\/+$/, "") + path;
}

export function upstreamHeaders(
  clientHeaders: Headers,
  provider: Provider,
  authorization: string | null,
): Headers {
  const headers = forwardableHeaders(clientHeaders);
  for (const [name, value] of Object.entries(provider.headers ?? {})) headers.set(name, value);
  headers.set("content-type", "application/json");
  // Anthropic-format upstreams require a version; OpenAI-format clients being translated never send one.
  if (provider.format === "anthropic" && !headers.has("anthropic-version")) {
    headers.set("anthropic-version", ANTHROPIC_VERSION);
  }
  if (authorization !== null) headers.set("authorization", authorization);
  return headers;
}
