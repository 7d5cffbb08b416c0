import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallLogOutbox, flushMsOf } from "../../src/observe/outbox";
import type { CallRecord } from "../../src/observe/record";

/** A Queue that records each sendBatch, failing the first `failures` of them. */
function recordingQueue(failures = 0) {
  const batches: { id: string; bytes: number }[][] = [];
  let failed = 0;
  const queue = {
    async send() {
      throw new Error("the outbox sends batches only");
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      if (failed < failures) {
        failed += 1;
        throw new Error("queue unavailable");
      }
      batches.push(
        [...messages].map((m) => ({
          id: (m.body as CallRecord).id,
          bytes: new TextEncoder().encode(JSON.stringify(m.body)).byteLength,
        })),
      );
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async metrics() {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  } satisfies Queue;
  return { queue, batches };
}

let n = 0;
/** Only what the outbox reads (id, requestId) and its size matter here. */
const record = (extra: Record<string, unknown> = {}) =>
  ({ id: `call-${++n}`, requestId: `req-${n}`, ...extra }) as unknown as CallRecord;

describe("the call log's outbox", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("sends the records added within one flush interval in one sendBatch, then settles their promises", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    const settled: string[] = [];
    const records = [record(), record(), record()];
    const done = records.map((r) => outbox.add(queue, r, 1000).done.then(() => settled.push(r.id)));
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(0);
    expect(settled).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(done);
    expect(batches.map((b) => b.map((m) => m.id))).toEqual([records.map((r) => r.id)]);
    expect(settled).toHaveLength(3);

    // The next record opens a new batch with its own timer.
    const later = record();
    const p = outbox.add(queue, later, 1000).done;
    await vi.advanceTimersByTimeAsync(1000);
    await p;
    expect(batches.at(-1)?.map((m) => m.id)).toEqual([later.id]);
  });

  it("sends at once when a batch holds 100 records, the most a Queue takes in one sendBatch", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    const first = Array.from({ length: 100 }, () => outbox.add(queue, record(), 60_000).done);
    await Promise.all(first);
    expect(batches.map((b) => b.length)).toEqual([100]);
    const next = outbox.add(queue, record(), 60_000).done;
    await vi.advanceTimersByTimeAsync(60_000);
    await next;
    expect(batches.map((b) => b.length)).toEqual([100, 1]);
  });

  it("keeps every batch under the Queue's 256 KB, starting a new one before a record would cross it", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    // Records with bodies, as `logBodies` keeps them (each body capped at 32 KiB).
    const big = () => record({ requestBody: "é".repeat(16_000), responseBody: "x".repeat(32_000) });
    const done = Array.from({ length: 12 }, () => outbox.add(queue, big(), 1000).done);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(done);
    expect(batches.flat()).toHaveLength(12);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.reduce((sum, m) => sum + m.bytes, 0)).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it("tries a failed send once more, and queues the batch when the second try works", async () => {
    const { queue, batches } = recordingQueue(1);
    const outbox = new CallLogOutbox();
    const p = outbox.add(queue, record(), 10).done;
    await vi.advanceTimersByTimeAsync(10);
    await p;
    expect(batches).toHaveLength(1);
  });

  it("when both tries fail, logs which calls never reached the call log and still settles", async () => {
    const { queue, batches } = recordingQueue(2);
    const outbox = new CallLogOutbox();
    const errors: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(line));
    try {
      const lost = [record(), record()];
      const done = lost.map((r) => outbox.add(queue, r, 10).done);
      await vi.advanceTimersByTimeAsync(10);
      await Promise.all(done);
      expect(batches).toHaveLength(0);
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0] ?? "{}")).toEqual({
        msg: "call log: the records could not be queued",
        callIds: lost.map((r) => r.id),
        requestIds: lost.map((r) => r.requestId),
        error: "queue unavailable",
      });
    } finally {
      spy.mockRestore();
    }
  });

  it("asks only the calls that send a batch to hold their request for it", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    const added = Array.from({ length: 100 }, () => outbox.add(queue, record(), 60_000));
    // The opener (its timer sends the batch) and the 100th record (which sends it at once).
    expect(added.flatMap((a, i) => (a.hold ? [i] : []))).toEqual([0, 99]);
    await added[99]?.hold;
    expect(batches.map((b) => b.length)).toEqual([100]);
  });

  it("sends a batch its opener never sent from the first call that finds it overdue", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    const start = Date.now();
    const stranded = outbox.add(queue, record(), 1000, start);
    // Within two intervals and a second the batch is still the open one; after that it is overdue.
    expect(outbox.add(queue, record(), 1000, start + 3000).hold).toBeNull();
    const finder = outbox.add(queue, record(), 1000, start + 3001);
    expect(finder.hold).not.toBeNull();
    await stranded.done;
    expect(batches.map((b) => b.length)).toEqual([2]);
  });

  it("reads its interval from CALL_LOG_FLUSH_MS, falling back to 1 s", () => {
    expect(flushMsOf({ CALL_LOG_FLUSH_MS: "10" })).toBe(10);
    expect(flushMsOf({})).toBe(1000);
    expect(flushMsOf({ CALL_LOG_FLUSH_MS: "later" })).toBe(1000);
  });
});
