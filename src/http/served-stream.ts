/**
 * A response stream piped into a native one where the runtime has them (workerd): workerd writes a native
 * stream to the client with less work per chunk, and tells it when the client hangs up (src/http/relay.ts
 * says more). Elsewhere (Node: unit tests, the stage microbenchmark) the stream goes as it is.
 */
export function asServed(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return typeof IdentityTransformStream === "function"
    ? stream.pipeThrough(new IdentityTransformStream())
    : stream;
}
