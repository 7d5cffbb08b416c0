import type { Provider } from "../config/schemas";
import { GatewayError } from "../errors";
import { forwardableHeaders } from "./headers";

const ANTHROPIC_VERSION = "2023-06-01";

/** The secret a provider names, read from the Worker's environment; its value is never logged. */
export function providerSecret(env: object, providerName: string, provider: Provider): string | null {
  if (provider.auth.type === "none") return null;
  const value: unknown = (env as Record<string, unknown>)[provider.auth.secret];
  if (typeof value !== "string" || value === "") {
    throw new GatewayError(
      "config",
      500,
      `Provider '${providerName}' names the secret '${provider.auth.secret}', which is not set on this gateway.`,
    );
  }
  return value;
}

/** `{baseUrl}{path}`: the gateway appends the API path, as Bifrost does with custom providers. */
export function upstreamUrl(provider: Provider, path: string): string {
  return provider.baseUrl.replace(/\/+$/, "") + path;
}

export function upstreamHeaders(clientHeaders: Headers, provider: Provider, secret: string | null): Headers {
  const headers = forwardableHeaders(clientHeaders);
  for (const [name, value] of Object.entries(provider.headers ?? {})) headers.set(name, value);
  headers.set("content-type", "application/json");
  // Anthropic-format upstreams require a version; OpenAI-format clients being translated never send one.
  if (provider.format === "anthropic" && !headers.has("anthropic-version")) {
    headers.set("anthropic-version", ANTHROPIC_VERSION);
  }
  if (secret !== null) headers.set("authorization", `Bearer ${secret}`);
  return headers;
}
