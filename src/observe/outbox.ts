import { durationMs } from "../config/vars";
import type { CallRecord } from "./record";

/**
 * The call log's records leave an isolate in batches: one `sendBatch` per `CALL_LOG_FLUSH_MS` (or once a
 * batch is as large as a Queue takes) instead of one `send` per call. Each send is a round trip to the
 * Queue service: with a batch, an isolate makes one per interval however many calls it serves. (The
 * interval is apart from usage's, so a test that stretches one does not stretch the other.)
 *
 * Nothing is lost: `add` returns a promise that settles once the batch holding the record was accepted by
 * the Queue (or logged as not queued), and the call keeps its request alive (`waitUntil`) until then, as
 * usage batches do (src/limits/batches.ts). Each call's Workers Logs line is written before, so a record
 * that never reaches the Queue is still in the logs.
 */

/** A Queue takes at most 100 messages and 256 KB in one sendBatch; the byte bound leaves headroom. */
const MAX_MESSAGES = 100;
const MAX_BYTES = 224 * 1024;
/** A failed send is tried again once before the batch is given up to the logs. */
const SEND_ATTEMPTS = 2;

type Open = {
  records: CallRecord[];
  bytes: number;
  sending: boolean;
  done: Promise<void>;
  resolve: () => void;
};

const encoder = new TextEncoder();
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CallLogOutbox {
  /** One open batch per Queue binding (tests bind a recorder of their own). */
  private readonly open = new Map<Queue, Open>();

  /** Adds a record to the open batch; resolves once its batch was queued (or logged as lost). */
  add(queue: Queue, record: CallRecord, flushMs: number): Promise<void> {
    const bytes = encoder.encode(JSON.stringify(record)).byteLength;
    let batch = this.open.get(queue);
    if (batch && batch.bytes + bytes > MAX_BYTES) {
      void this.flush(queue, batch);
      batch = undefined;
    }
    if (!batch) {
      batch = opened();
      this.open.set(queue, batch);
      const timed = batch;
      void delay(Math.max(0, flushMs)).then(() => this.flush(queue, timed));
    }
    batch.records.push(record);
    batch.bytes += bytes;
    if (batch.records.length >= MAX_MESSAGES) void this.flush(queue, batch);
    return batch.done;
  }

  private async flush(queue: Queue, batch: Open): Promise<void> {
    if (batch.sending) return;
    batch.sending = true;
    if (this.open.get(queue) === batch) this.open.delete(queue);
    const messages = batch.records.map((body) => ({ body, contentType: "json" as const }));
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      try {
        await queue.sendBatch(messages);
        batch.resolve();
        return;
      } catch (e) {
        lastError = e;
      }
    }
    // Each call's log line already holds it; this one says which never reached the call log.
    console.error(
      JSON.stringify({
        msg: "call log: the records could not be queued",
        callIds: batch.records.map((r) => r.id),
        requestIds: batch.records.map((r) => r.requestId),
        error: lastError instanceof Error ? lastError.message : String(lastError),
      }),
    );
    batch.resolve();
  }
}

function opened(): Open {
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  return { records: [], bytes: 0, sending: false, done, resolve };
}

export const DEFAULT_FLUSH_MS = 1000;

/** The interval from the `CALL_LOG_FLUSH_MS` var (ms); the default when unset or not a number. */
export function flushMsOf(env: { CALL_LOG_FLUSH_MS?: string }): number {
  return durationMs(env.CALL_LOG_FLUSH_MS, DEFAULT_FLUSH_MS);
}

/** The isolate's outbox, shared by every request it serves. */
export const outbox = new CallLogOutbox();
