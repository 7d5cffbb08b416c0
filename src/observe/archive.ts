import { hex } from "../http/crypto";
import type { CallRecord } from "./record";

/**
 * The lakehouse copy in R2: newline-delimited JSON, one object per batch and hour,
 * `calls/date=YYYY-MM-DD/hour=HH/<batch>.jsonl` (Hive-style partitions, which Databricks reads as the
 * table's `date` and `hour` columns). The object's name is derived from the ids of the Queue messages in
 * it, so a batch delivered again overwrites its own object instead of adding a second copy.
 */

export const CALLS_PREFIX = "calls";
export const DEAD_LETTER_PREFIX = "dead-letter";

/** `date=YYYY-MM-DD/hour=HH` of an instant, in UTC. */
export function partitionOf(timeMs: number): string {
  const iso = new Date(timeMs).toISOString();
  return `date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** A short stable name for a set of message ids (order and repeats do not matter: a message holds many records). */
export async function batchName(messageIds: readonly string[]): Promise<string> {
  const sorted = [...new Set(messageIds)].sort().join("\n");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sorted));
  return hex(new Uint8Array(digest).slice(0, 16));
}

const JSONL = { contentType: "application/x-ndjson" };

/** Writes the records, grouped by the hour they happened in; one object per group. */
export async function archiveCalls(
  bucket: R2Bucket,
  entries: ReadonlyArray<{ messageId: string; record: CallRecord }>,
): Promise<string[]> {
  const groups = new Map<string, Array<{ messageId: string; record: CallRecord }>>();
  for (const entry of entries) {
    const partition = partitionOf(Date.parse(entry.record.time));
    const group = groups.get(partition) ?? [];
    group.push(entry);
    groups.set(partition, group);
  }
  const written: string[] = [];
  await Promise.all(
    [...groups].map(async ([partition, group]) => {
      const name = `${CALLS_PREFIX}/${partition}/${await batchName(group.map((e) => e.messageId))}.jsonl`;
      const body = group.map((e) => JSON.stringify(e.record)).join("\n") + "\n";
      await bucket.put(name, body, { httpMetadata: JSONL });
      written.push(name);
    }),
  );
  return written.sort();
}

/**
 * Messages the Queue gave up on, kept as they came (they may not even be records), one JSON line each
 * with the message id and how often it was tried, under `dead-letter/`, partitioned by when they arrived
 * there. An operator can read or replay them from there.
 */
export async function archiveDeadLetters(
  bucket: R2Bucket,
  messages: ReadonlyArray<{ id: string; attempts: number; body: unknown }>,
  nowMs: number,
): Promise<string> {
  const name = `${DEAD_LETTER_PREFIX}/${partitionOf(nowMs)}/${await batchName(messages.map((m) => m.id))}.jsonl`;
  const body = messages.map((m) => deadLetterLine(m.id, m.attempts, m.body)).join("\n") + "\n";
  await bucket.put(name, body, { httpMetadata: JSONL });
  return name;
}

/** A dead letter as one JSON line, whatever its body holds (JSON cannot hold everything a message can). */
function deadLetterLine(messageId: string, attempts: number, body: unknown): string {
  try {
    return JSON.stringify({ messageId, attempts, body });
  } catch {
    return JSON.stringify({ messageId, attempts, body: String(body) });
  }
}
