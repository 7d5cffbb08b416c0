import { join } from "node:path";
import { Miniflare, Response as MiniflareResponse, type Request as MiniflareRequest } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * What wrangler.toml's queue settings do on a real (local) Queue: a batch whose consumer keeps failing is
 * delivered again until max_retries is used up, then lands in the dead-letter queue, whose consumer gets
 * it. The Worker here is a stand-in whose call-log consumer always throws (the real consumer's retry and
 * dead-letter handling is tested in test/worker/call-consumer.test.ts); the queue settings are the
 * repository's own, except the batch timeout, cut to 0 s so the test takes seconds.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
const consumers = workerOptions.queueConsumers;
if (!consumers || Array.isArray(consumers)) throw new Error("wrangler.toml declares no queue consumers");
const callQueue = consumers["bricklane-calls"];
if (!callQueue?.deadLetterQueue || callQueue.maxRetries === undefined) {
  throw new Error("the call log's consumer has no dead-letter queue or max_retries");
}
const deadLetterQueue = callQueue.deadLetterQueue;
const maxRetries = callQueue.maxRetries;

const SCRIPT = `
export default {
  async fetch(request, env) {
    await env.CALL_LOG.send(await request.json(), { contentType: "json" });
    return new Response("queued");
  },
  async queue(batch, env) {
    const messages = batch.messages.map((m) => ({ id: m.id, attempts: m.attempts, body: m.body }));
    await env.REPORT.fetch("http://report/" + batch.queue, { method: "POST", body: JSON.stringify(messages) });
    if (batch.queue.endsWith("-dlq")) return batch.ackAll();
    throw new Error("the call log's storage is down");
  },
};
`;

type Seen = { id: string; attempts: number; body: unknown };
const deliveries: Seen[] = [];
let deadLettered: (messages: Seen[]) => void = () => {};
const deadLetters = new Promise<Seen[]>((resolve) => (deadLettered = resolve));
let mf: Miniflare;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: SCRIPT,
    compatibilityDate: "2026-04-20",
    queueProducers: { CALL_LOG: { queueName: "bricklane-calls" } },
    queueConsumers: {
      "bricklane-calls": { ...callQueue, maxBatchTimeout: 0 },
      [deadLetterQueue]: { maxBatchTimeout: 0 },
    },
    serviceBindings: {
      async REPORT(request: MiniflareRequest) {
        const messages = (await request.json()) as Seen[];
        if (new URL(request.url).pathname === `/${deadLetterQueue}`) deadLettered(messages);
        else deliveries.push(...messages);
        return new MiniflareResponse("ok");
      },
    },
  });
  await mf.ready;
}, 30_000);

afterAll(async () => {
  await mf?.dispose();
});

describe("the call log's queue settings", () => {
  it(`deliver a failing batch ${maxRetries + 1} times, then to the dead-letter queue`, async () => {
    const record = { id: "call-1", note: "a record the consumer cannot store" };
    const res = await mf.dispatchFetch("http://localhost/", { method: "POST", body: JSON.stringify(record) });
    expect(await res.text()).toBe("queued");
    const [dead] = await deadLetters;
    expect(dead?.body).toEqual(record);
    expect(deliveries.map((d) => d.attempts)).toEqual(
      Array.from({ length: maxRetries + 1 }, (_, i) => i + 1),
    );
    expect(new Set(deliveries.map((d) => d.id))).toEqual(new Set([dead?.id]));
  }, 30_000);
});
