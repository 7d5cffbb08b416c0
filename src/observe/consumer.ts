import { archiveCalls, archiveDeadLetters } from "./archive";
import { insertCalls } from "./calls-table";
import { CallRecord } from "./record";

export type ConsumerEnv = Pick<CloudflareBindings, "CALLS_DB" | "CALL_ARCHIVE">;

/**
 * The Worker consumes two queues (wrangler.toml): the call log and its dead-letter queue, told apart by
 * name: a dead-letter queue's name ends in `-dlq` (so renaming both for another environment keeps working).
 */
export function isDeadLetterQueue(name: string): boolean {
  return name.endsWith("-dlq");
}

/** A retried batch waits longer each time: 10 s, 20 s, 40 s … at most 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));
}

/**
 * The records a message carries: a batch (a JSON array, as ./outbox.ts sends them), or one record, as
 * versions before that sent them (such messages may still be queued across a deploy). When any of it is
 * not a call record, the message is kept whole, for the dead letters, rather than half stored; `issue`
 * says what is wrong, for the log.
 */
export function recordsOf(body: unknown): { ok: true; records: CallRecord[] } | { ok: false; issue: string } {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) return { ok: false, issue: "an empty batch" };
  const records: CallRecord[] = [];
  for (const [i, item] of items.entries()) {
    const parsed = CallRecord.safeParse(item);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = [...(Array.isArray(body) ? [i] : []), ...(first?.path ?? [])].join(".");
      return { ok: false, issue: `${where ? `${where}: ` : ""}${first?.message ?? "invalid"}` };
    }
    records.push(parsed.data);
  }
  return { ok: true, records };
}

/**
 * Stores the records of a batch of messages: R2 first (the lakehouse copy), then D1 (recent calls for the
 * admin API), then acknowledges. If either write fails, every message is handed back to the Queue to be
 * tried again later, and after the configured number of tries the Queue moves it to the dead-letter queue.
 * Both writes are idempotent (see ./archive.ts and ./calls-table.ts), so a retry adds no copies.
 * A message that does not hold call records can never be stored: it is retried too, and so ends up with
 * the dead letters instead of being dropped.
 */
export async function consumeCalls(batch: MessageBatch, env: ConsumerEnv): Promise<void> {
  const stored: Message[] = [];
  const entries: Array<{ messageId: string; record: CallRecord }> = [];
  for (const message of batch.messages) {
    const held = recordsOf(message.body);
    if (held.ok) {
      stored.push(message);
      for (const record of held.records) entries.push({ messageId: message.id, record });
    } else {
      console.error(
        JSON.stringify({
          msg: "call log: a message does not hold call records",
          messageId: message.id,
          issue: held.issue,
        }),
      );
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (entries.length === 0) return;
  try {
    await archiveCalls(env.CALL_ARCHIVE, entries);
    await insertCalls(
      env.CALLS_DB,
      entries.map((e) => e.record),
    );
  } catch (e) {
    console.error(
      JSON.stringify({
        msg: "call log: batch not stored; the queue will deliver it again",
        records: entries.length,
        attempts: Math.max(...stored.map((m) => m.attempts)),
        error: e instanceof Error ? e.message : String(e),
      }),
    );
    for (const message of stored) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  for (const message of stored) message.ack();
  // One line per stored batch: an operator sees the log keeping up, and a test waits on this line for
  // its call instead of polling the admin API.
  console.log(
    JSON.stringify({
      msg: "call log: stored",
      messages: stored.length,
      records: entries.length,
      requestIds: entries.map((e) => e.record.requestId),
    }),
  );
}

/**
 * The dead-letter queue's consumer: whatever arrives is written to R2 under `dead-letter/` as it came,
 * so records the call log could not store are kept somewhere an operator can find them. If R2 refuses too,
 * the dead-letter queue retries.
 */
export async function consumeDeadLetters(
  batch: MessageBatch,
  env: ConsumerEnv,
  nowMs: number,
): Promise<void> {
  const messages = batch.messages.map((m) => ({ id: m.id, attempts: m.attempts, body: m.body }));
  if (messages.length === 0) return;
  const name = await archiveDeadLetters(env.CALL_ARCHIVE, messages, nowMs);
  console.error(
    JSON.stringify({ msg: "call log: dead letters kept in R2", object: name, count: messages.length }),
  );
  batch.ackAll();
}
