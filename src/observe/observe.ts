import { callLogLine } from "./log-line";
import { metricsDataPoint } from "./metrics";
import { flushMsOf, outbox } from "./outbox";
import type { CallRecord } from "./record";

export type ObserveEnv = Pick<CloudflareBindings, "CALL_LOG" | "CALL_METRICS" | "CALL_LOG_FLUSH_MS">;

/**
 * Everything the gateway keeps of one call that reached an upstream, written from one place and once per
 * call: the Workers Logs line, one Analytics Engine data point, and the record on the Queue (in the
 * isolate's batch, ./outbox.ts), whose consumer writes it to R2 and D1. Nothing here delays the client;
 * the send runs in `waitUntil`.
 */
export function observeCall(
  env: ObserveEnv,
  waitUntil: (p: Promise<unknown>) => void,
  record: CallRecord,
): void {
  console.log(JSON.stringify(callLogLine(record)));
  try {
    env.CALL_METRICS.writeDataPoint(metricsDataPoint(record));
  } catch (e) {
    console.error(
      JSON.stringify({ msg: "call metrics: write failed", requestId: record.requestId, error: String(e) }),
    );
  }
  // Only the call that sends the batch waits for it (./outbox.ts says why that loses nothing).
  const { hold } = outbox.add(env.CALL_LOG, record, flushMsOf(env));
  if (hold) waitUntil(hold);
}
