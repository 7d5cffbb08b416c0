import { holdOf, overdueMs } from "../batching";
import { durationMs } from "../config/vars";
import { jsonSize } from "./bodies";
import type { CallRecord } from "./record";

/**
 * The call log's records leave an isolate in batches, and each batch travels as ONE Queue message (a JSON
 * array of records): sent once per `CALL_LOG_FLUSH_MS`, or as soon as it holds 100 records or would outgrow
 * a message. A Queue bills and handles per message (each write, read and delete is an operation per 64 KB),
 * so a message per batch instead of one per record costs an isolate one send per interval and the Queue up
 * to 100 times fewer operations (docs/observability.md has what it measured). The consumer takes such
 * arrays, and single records as older versions sent them (./consumer.ts). (The interval is apart from
 * usage's, so a test that stretches one does not stretch the other.)
 *
 * Nothing is lost: the request that sends a batch (the one that opened it, by its timer, or the one that
 * filled it) keeps itself alive (`waitUntil`) until the Queue accepted it (or it was logged as not
 * queued), so the runtime keeps the isolate, and every record in the batch, until then; the other calls
 * go without waiting, as in usage batches (src/limits/batches.ts, which says why). A batch found overdue
 * is sent by the call that finds it. Each call's Workers Logs line is written before, so a record that
 * never reaches the Queue is still in the logs.
 */

/**
 * A Queue message holds at most 128 KB. Records are counted as their JSON; the array's brackets and commas
 * (one byte a record) fit in the headroom. No record is over the bound (the call log cuts the bodies kept
 * with `logBodies` to fit it: src/http/call-log.ts); one that were would go alone, and be refused.
 */
const MAX_RECORDS = 100;
export const MAX_MESSAGE_BYTES = 120 * 1024;
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

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CallLogOutbox {
  /** One open batch per Queue binding (tests bind a recorder of their own). */
  private readonly open = new Map<Queue, Open>();

  /** Adds a record to the open batch (see `Added`). */
  add(queue: Queue, record: CallRecord, flushMs: number, now = Date.now()): Added {
    const bytes = jsonSize(record);
    const holds: Promise<void>[] = [];
    let batch = this.open.get(queue);
    if (batch && (batch.bytes + bytes > MAX_MESSAGE_BYTES || now - batch.openedAt > overdueMs(flushMs))) {
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
    if (batch.records.length >= MAX_RECORDS) {
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
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      try {
        await queue.send(batch.records, { contentType: "json" });
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
