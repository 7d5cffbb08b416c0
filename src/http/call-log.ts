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

/** Logs a finished call. */
export function logCall(c: Context<AppEnv>, record: CallRecord): void {
  console.log(
    JSON.stringify({ msg: "call", requestId: c.get("requestId"), keyId: c.get("key").id, ...record }),
  );
}
