import { holdOf, overdueMs } from "../batching";
import { durationMs } from "../config/vars";
import type { CallRecord } from "./record";

/**
 * The call log's records leave an isolate in batches: one `sendBatch` per `CALL_LOG_FLUSH_MS` (or once a
 * batch is as large as a Queue takes) instead of one `send` per call. Each send is a round trip to the
 * Queue service: with a batch, an isolate makes one per interval however many calls it serves. (The
 * interval is apart from usage's, so a test that stretches one does not stretch the other.)
 *
 * Nothing is lost: the request that sends a batch (the one that opened it, by its timer, or the one that
 * filled it) keeps itself alive (`waitUntil`) until the Queue accepted it (or it was logged as not
 * queued), so the runtime keeps the isolate, and every record in the batch, until then; the other calls
 * go without waiting, as in usage batches (src/limits/batches.ts, which says why). A batch found overdue
 * is sent by the call that finds it. Each call's Workers Logs line is written before, so a record that
 * never reaches the Queue is still in the logs.
 */

/** A Queue takes at most 100 messages and 256 KB in one sendBatch; the byte bound leaves headroom. */
const MAX_MESSAGES = 100;
const MAX_BYTES = 224 * 1024;
/** A failed send is tried again once before the batch is given up to the logs. */
const SEND_ATTEMPTS = 2;

/** A record in a batch: `done` settles once the batch was queued; `hold` is what this call must keep alive. */
export type Added = { done: Promise<void>; hold: Promise<void> | null };

type Open = {
  openedAt: number;
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

  /** Adds a record to the open batch (see `Added`). */
  add(queue: Queue, record: CallRecord, flushMs: number, now = Date.now()): Added {
    const bytes = encoder.encode(JSON.stringify(record)).byteLength;
    const holds: Promise<void>[] = [];
    let batch = this.open.get(queue);
    if (batch && (batch.bytes + bytes > MAX_BYTES || now - batch.openedAt > overdueMs(flushMs))) {
      void this.flush(queue, batch);
      holds.push(batch.done);
      batch = undefined;
    }
    if (!batch) {
      batch = opened(now);
      this.open.set(queue, batch);
      const timed = batch;
      void delay(Math.max(0, flushMs)).then(() => this.flush(queue, timed));
      holds.push(batch.done);
    }
    batch.records.push(record);
    batch.bytes += bytes;
    if (batch.records.length >= MAX_MESSAGES) {
      void this.flush(queue, batch);
      if (!holds.includes(batch.done)) holds.push(batch.done);
    }
    const hold = holdOf(holds);
    return { done: batch.done, hold };
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

function opened(now: number): Open {
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  return { openedAt: now, records: [], bytes: 0, sending: false, done, resolve };
}

export const DEFAULT_FLUSH_MS = 1000;

/** The interval from the `CALL_LOG_FLUSH_MS` var (ms); the default when unset or not a number. */
export function flushMsOf(env: { CALL_LOG_FLUSH_MS?: string }): number {
  return durationMs(env.CALL_LOG_FLUSH_MS, DEFAULT_FLUSH_MS);
}

/** The isolate's outbox, shared by every request it serves. */
export const outbox = new CallLogOutbox();
