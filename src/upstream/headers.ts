/**
 * Which client headers travel upstream. Everything is forwarded except credentials (the virtual key must
 * never leave the gateway), cookies, hop-by-hop headers, framing the runtime recomputes, and edge
 * metadata. Forwarding by default keeps provider-specific headers (anthropic-beta, x-databricks-*,
 * openai-beta, …) working without the gateway having to know them.
 */
const DROPPED = new Set([
  "authorization",
  "x-api-key",
  "cookie",
  "proxy-authorization",
  "host",
  "content-length",
  "accept-encoding",
  // hop-by-hop (RFC 9110 §7.6.1)
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // edge metadata that would leak the client's address or confuse the upstream
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "true-client-ip",
  "forwarded",
]);

function dropped(name: string, connectionListed: ReadonlySet<string>): boolean {
  return DROPPED.has(name) || name.startsWith("cf-") || connectionListed.has(name);
}

export function forwardableHeaders(client: Headers): Headers {
  const connectionListed = new Set(
    (client.get("connection") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  client.forEach((value, name) => {
    if (!dropped(name.toLowerCase(), connectionListed)) out.set(name, value);
  });
  return out;
}
