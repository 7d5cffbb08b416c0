/**
 * Wraps an upstream body so a failure while reading it (connection reset, cut stream) ends the stream
 * normally instead of erroring it: the transforms after it then see the end, notice the response was not
 * finished, and write an in-band error event in the client's format. A cancel from downstream (the client
 * left) cancels the upstream read, which aborts the upstream request.
 */
export type GuardHooks = { onUpstreamError?: (e: unknown) => void; onCancel?: () => void };

export function guardedBody(
  body: ReadableStream<Uint8Array>,
  hooks: GuardHooks = {},
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        hooks.onUpstreamError?.(e);
        controller.close();
      }
    },
    async cancel(reason) {
      hooks.onCancel?.();
      await reader.cancel(reason).catch(() => {});
    },
  });
}
