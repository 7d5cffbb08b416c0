import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import worker from "../../src/index";
import type { CallRecord } from "../../src/observe/record";
import { ADMIN_TOKEN } from "./helpers";

/**
 * The Worker called directly (not through SELF), with the call log's Queue and Analytics Engine dataset
 * replaced by recorders, so a test sees exactly what one call sent and can wait for all of it: the
 * request's waitUntil work settles through waitOnExecutionContext, no polling.
 */
export function observedWorker() {
  const sent: CallRecord[] = [];
  /** The messages themselves, as sent (each a batch of records). */
  const messages: CallRecord[][] = [];
  /** How many records each message carried (the outbox sends a batch as one message). */
  const batches: number[] = [];
  const points: AnalyticsEngineDataPoint[] = [];
  const queue: Queue = {
    async send(body: unknown) {
      const records = body as CallRecord[];
      sent.push(...records);
      messages.push(records);
      batches.push(records.length);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
    async sendBatch() {
      throw new Error("the call log sends each batch as one message");
    },
    async metrics() {
      return { backlogCount: 0, backlogBytes: 0 };
    },
  };
  const metrics: AnalyticsEngineDataset = { writeDataPoint: (point) => void (point && points.push(point)) };
  const testEnv: CloudflareBindings = { ...env, CALL_LOG: queue, CALL_METRICS: metrics };

  /** One request through the Worker; `settled()` waits for everything it left in waitUntil. */
  async function fetch(url: string, init: RequestInit) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`http://gateway.test${url}`, init), testEnv, ctx);
    return { res, settled: () => waitOnExecutionContext(ctx) };
  }
  return { env: testEnv, sent, messages, batches, points, fetch };
}

let messages = 0;

/**
 * Delivers messages to the Worker's queue consumer as the Queue would, and returns what it acked or
 * retried. Each body is one message's: the gateway sends an array of records (a batch).
 */
export async function deliver(
  bodies: readonly unknown[],
  opts: { env?: CloudflareBindings; queue?: string; ids?: string[]; attempts?: number } = {},
) {
  const batch = createMessageBatch(
    opts.queue ?? "bricklane-calls",
    bodies.map((body, i) => {
      messages += 1;
      return {
        id: opts.ids?.[i] ?? `msg-${Date.now().toString(36)}-${messages}`,
        timestamp: new Date(),
        attempts: opts.attempts ?? 1,
        body,
      };
    }),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, opts.env ?? env);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** `GET /admin/calls` with the given query, through the Worker. */
export async function adminCalls(query: Record<string, string>) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://gateway.test/admin/calls?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return {
    status: res.status,
    json: (await res.json()) as { data: Array<Record<string, unknown>>; nextCursor: string | null },
  };
}
