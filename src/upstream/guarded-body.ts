import type { StreamRedaction } from "./redactor";

/**
 * Wraps an upstream body so a failure while reading it (connection reset, cut stream) ends the stream
 * normally instead of erroring it: the transforms after it then see the end, notice the response was not
 * finished, and write an in-band error event in the client's format. A cancel from downstream (the client
 * left) cancels the upstream read, which aborts the upstream request. With a redaction, the provider's
 * secret is taken out of the bytes before anything downstream reads them.
 */
export type GuardHooks = {
  onUpstreamError?: (e: unknown) => void;
  onCancel?: () => void;
  redaction?: StreamRedaction;
};

export function guardedBody(
  body: ReadableStream<Uint8Array>,
  hooks: GuardHooks = {},
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const { redaction } = hooks;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const rest = redaction?.end();
    if (rest && rest.length > 0) controller.enqueue(rest);
    controller.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // A chunk that is all held back (it may begin a secret) enqueues nothing: read on, since the
        // stream would not ask again.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return end(controller);
          const out = redaction ? redaction.push(value) : value;
          if (out.length > 0) return controller.enqueue(out);
        }
      } catch (e) {
        hooks.onUpstreamError?.(e);
        end(controller);
      }
    },
    async cancel(reason) {
      hooks.onCancel?.();
      await reader.cancel(reason).catch(() => {});
    },
  });
}
