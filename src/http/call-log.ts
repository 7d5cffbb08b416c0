import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { Usage } from "../formats/usage";

/** One line per call that reached an upstream, as structured JSON (Workers Logs indexes the fields). */
export type CallRecord = {
  provider: string;
  model: string;
  status: number;
  stream: boolean;
  usage: Usage | null;
  end: string;
  durationMs: number;
};

/**
 * Records a finished call after the response: `done` settles when the call is over (for a stream, when
 * it ends or the client leaves). Registered with waitUntil at once, so the runtime keeps the isolate
 * alive for it without delaying the client.
 */
export function recordCallWhen(c: Context<AppEnv>, done: Promise<CallRecord>): void {
  const requestId = c.get("requestId");
  const keyId = c.get("key").id;
  c.executionCtx.waitUntil(
    done.then((record) => {
      console.log(JSON.stringify({ msg: "call", requestId, keyId, ...record }));
    }),
  );
}
