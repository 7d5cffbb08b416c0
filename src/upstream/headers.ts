/**
 * Which client headers travel upstream. Everything is forwarded except credentials (the virtual key must
 * never leave the gateway), cookies, hop-by-hop headers, framing and encoding (the body is re-serialised,
 * so the client's length, transfer coding and content coding no longer describe it), `Expect` (the
 * gateway sends the whole body at once; an upstream that answers `100 Continue` would leave the call
 * hanging), and edge metadata. Forwarding by default keeps provider-specific headers (anthropic-beta,
 * x-databricks-*, openai-beta, …) working without the gateway having to know them.
 *
 * Headers a client names in `Connection` cannot be honoured: the runtime removes `Connection` before the
 * Worker sees the request, so the fixed hop-by-hop set below is what is dropped.
 */
const DROPPED = new Set([
  "authorization",
  "x-api-key",
  "cookie",
  "proxy-authorization",
  "host",
  // framing and codings of the client's body, which is not the body sent upstream
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "accept-encoding",
  "expect",
  // hop-by-hop (RFC 9110 §7.6.1)
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
  // edge metadata that would leak the client's address or confuse the upstream
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "true-client-ip",
  "forwarded",
]);

function dropped(name: string): boolean {
  return DROPPED.has(name) || name.startsWith("cf-");
}

export function forwardableHeaders(client: Headers): Headers {
  const out = new Headers();
  client.forEach((value, name) => {
    if (!dropped(name.toLowerCase())) out.set(name, value);
  });
  return out;
}
