import { callLogLine } from "./log-line";
import { metricsDataPoint } from "./metrics";
import type { CallRecord } from "./record";

export type ObserveEnv = Pick<CloudflareBindings, "CALL_LOG" | "CALL_METRICS">;

/** A failed send is tried again once before the record is given up to the logs. */
const SEND_ATTEMPTS = 2;

/**
 * Everything the gateway keeps of one call that reached an upstream, written from one place and once per
 * call: the Workers Logs line, one Analytics Engine data point, and the record on the Queue, whose
 * consumer writes it to R2 and D1. Nothing here delays the client; the send runs in `waitUntil`.
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
  waitUntil(enqueue(env.CALL_LOG, record));
}

async function enqueue(queue: Queue, record: CallRecord): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.send(record, { contentType: "json" });
      return;
    } catch (e) {
      if (attempt < SEND_ATTEMPTS) continue;
      // The log line above already holds the call; this one says it never reached the call log.
      console.error(
        JSON.stringify({
          msg: "call log: the record could not be queued",
          callId: record.id,
          requestId: record.requestId,
          error: e instanceof Error ? e.message : String(e),
        }),
      );
      return;
    }
  }
}
