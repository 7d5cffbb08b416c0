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
  const logged = done.then((record) => {
    console.log(JSON.stringify({ msg: "call", requestId, keyId, ...record }));
    return record;
  });
  c.executionCtx.waitUntil(logged);
  // Tokens count from what the upstream reported (or the estimate); a cut stream is an error.
  c.get("meter").finishWhen(
    logged.then((r) => ({
      usage: r.usage,
      error: r.end === "upstream_cut" || r.end === "upstream_error_event",
    })),
  );
}
