import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallLogOutbox, flushMsOf } from "../../src/observe/outbox";
import type { CallRecord } from "../../src/observe/record";

/** A Queue that records each message the outbox sends (a batch of records), failing the first `failures`. */
function recordingQueue(failures = 0) {
  const batches: { id: string; bytes: number }[][] = [];
  /** Each message's size as the Queue counts it: its JSON. */
  const messageBytes: number[] = [];
  let failed = 0;
  const queue = {
    async send(body: unknown, options?: QueueSendOptions) {
      if (failed < failures) {
        failed += 1;
        throw new Error("queue unavailable");
      }
      expect(options?.contentType).toBe("json");
      const records = body as CallRecord[];
      messageBytes.push(new TextEncoder().encode(JSON.stringify(records)).byteLength);
      batches.push(
        records.map((r) => ({ id: r.id, bytes: new TextEncoder().encode(JSON.stringify(r)).byteLength })),
      );
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async sendBatch() {
      throw new Error("the outbox sends each batch as one message");
    },
    async metrics() {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  } satisfies Queue;
  return { queue, batches, messageBytes };
}

let n = 0;
/** Only what the outbox reads (id, requestId) and its size matter here. */
const record = (extra: Record<string, unknown> = {}) =>
  ({ id: `call-${++n}`, requestId: `req-${n}`, ...extra }) as unknown as CallRecord;

describe("the call log's outbox", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("sends the records added within one flush interval as one message, then settles their promises", async () => {
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

  it("sends at once when a batch holds 100 records", async () => {
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

  it("keeps every message under the Queue's 128 KB, starting a new batch before a record would cross it", async () => {
    const { queue, batches, messageBytes } = recordingQueue();
    const outbox = new CallLogOutbox();
    // Records with bodies, as `logBodies` keeps them (each body capped at 32 KiB): about 48 KB each.
    const big = () => record({ requestBody: "é".repeat(8_000), responseBody: "x".repeat(32_000) });
    const done = Array.from({ length: 12 }, () => outbox.add(queue, big(), 1000).done);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(done);
    expect(batches.flat()).toHaveLength(12);
    expect(batches.length).toBeGreaterThan(1);
    // Two such records fit in a message; a third would not.
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2, 2]);
    for (const bytes of messageBytes) expect(bytes).toBeLessThanOrEqual(128 * 1024);
  });

  it("sends a record too large to share a message alone", async () => {
    const { queue, batches } = recordingQueue();
    const outbox = new CallLogOutbox();
    const small = record();
    const huge = record({ requestBody: "x".repeat(130 * 1024) });
    const after = record();
    const done = [small, huge, after].map((r) => outbox.add(queue, r, 1000).done);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(done);
    expect(batches.map((b) => b.map((m) => m.id))).toEqual([[small.id], [huge.id], [after.id]]);
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
