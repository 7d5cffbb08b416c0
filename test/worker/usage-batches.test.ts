import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { LEASE_MS } from "../../src/limits/grants";
import { countingEnv } from "./do-calls";
import { admin, createKey, putProvider, uniqueName, userMessage } from "./helpers";

/**
 * Usage in batches and leases, seen from the Durable Objects: the Worker is called directly with a
 * wrapped limiter binding that counts its calls, and each request's `waitUntil` work is awaited through
 * its execution context (no polling).
 */

function chatRequest(key: string, model: string, stream = false): Request {
  return new Request("http://gateway.test/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: userMessage(), stream }),
  });
}

async function call(
  bindings: ReturnType<typeof countingEnv>["env"],
  key: string,
  model: string,
  stream = false,
) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(chatRequest(key, model, stream), bindings, ctx);
  await res.text();
  return { status: res.status, ctx };
}

const usageOf = (name: string) =>
  env.LIMITER.get(env.LIMITER.idFromName(name)).usage("2000-01-01", "2999-12-31");

describe("usage batches", () => {
  it("sends the usage of concurrent calls in one flush per scope", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const team = uniqueName("team");
    await admin("PUT", `/teams/${team}`, {});
    const { key, id } = await createKey({ team });
    // A long interval, so that every call lands in the batch the first one opened.
    const counting = countingEnv({ USAGE_FLUSH_MS: "5000" });
    const calls = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(counting.env, key, `${provider}/m`, i % 2 === 0)),
    );
    expect(calls.every((c) => c.status === 200)).toBe(true);
    await Promise.all(calls.map((c) => waitOnExecutionContext(c.ctx)));
    const flushes = counting.calls.filter((c) => c.method === "flush").map((c) => c.name);
    expect(flushes.sort()).toEqual([`key:${id}`, `provider:${provider}`, `team:${team}`].sort());
    for (const scope of [`key:${id}`, `team:${team}`, `provider:${provider}`]) {
      const rows = await usageOf(scope);
      expect(rows).toMatchObject([{ provider, model: "m", requests: 10, errors: 0 }]);
      expect(rows[0]?.inputTokens).toBeGreaterThan(0);
    }
  }, 30_000);

  it("keeps a call's waitUntil open until its usage is durable", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const { key, id } = await createKey();
    const counting = countingEnv({ USAGE_FLUSH_MS: "3000" });
    const { status, ctx } = await call(counting.env, key, `${provider}/m`);
    expect(status).toBe(200);
    // Answered, but the batch is still open: nothing in the limiter yet.
    expect(await usageOf(`key:${id}`)).toEqual([]);
    await waitOnExecutionContext(ctx);
    expect(await usageOf(`key:${id}`)).toMatchObject([{ requests: 1 }]);
    expect(await usageOf(`provider:${provider}`)).toMatchObject([{ requests: 1 }]);
  }, 30_000);

  it("frees a concurrency slot as soon as the call ends, not at the next flush", async () => {
    const provider = uniqueName();
    // Both scopes of the call cap concurrency, so neither batch waits for the (long) interval.
    await putProvider(provider, { limits: { maxConcurrent: 5 } });
    const { key, id } = await createKey({ limits: { maxConcurrent: 1 } });
    const counting = countingEnv({ USAGE_FLUSH_MS: "60000" });
    const first = await call(counting.env, key, `${provider}/m`);
    await waitOnExecutionContext(first.ctx);
    const live = await env.LIMITER.get(env.LIMITER.idFromName(`key:${id}`)).live();
    expect(live.concurrency).toEqual({ limit: 1, inFlight: 0 });
    const second = await call(counting.env, key, `${provider}/m`);
    expect(second.status).toBe(200);
    await waitOnExecutionContext(second.ctx);
    // The key's calls go one by one to its limiter (admit, then the flush that frees the slot).
    const keyCalls = counting.calls.filter((c) => c.name === `key:${id}`).map((c) => c.method);
    expect(keyCalls.filter((m) => m === "admit")).toHaveLength(2);
    expect(keyCalls.filter((m) => m === "flush")).toHaveLength(2);
  }, 30_000);
});

describe("Durable Object calls per request in the steady state", () => {
  it("stays far below one per request for a key with rpm, tpm and a budget", async () => {
    const provider = uniqueName();
    await putProvider(provider, { pricing: { m: { inputPerMTok: 1, outputPerMTok: 1 } } });
    const { key } = await createKey({
      limits: { rpm: 100_000, tpm: 100_000_000, budget: { usd: 1000, period: "day" } },
    });
    const counting = countingEnv({ USAGE_FLUSH_MS: "1000" });
    const wave = (n: number) =>
      Promise.all(Array.from({ length: n }, () => call(counting.env, key, `${provider}/m`)));
    // Warm up: the first call of an isolate waits for its lease.
    const warm = await wave(5);
    const before = counting.calls.length;
    const started = Date.now();
    const measured = [];
    for (let i = 0; i < 8; i++) measured.push(...(await wave(25)));
    const elapsed = Date.now() - started;
    expect(measured.every((c) => c.status === 200)).toBe(true);
    const during = counting.calls.slice(before);
    const leases = during.filter((c) => c.method === "lease").length;
    const flushes = during.filter((c) => c.method === "flush").length;
    // Leases are renewed at most twice per lease time (at half), plus one after each exhausted lease
    // while the grants grow; usage goes out once per flush interval per scope (key and provider).
    const periods = Math.ceil(elapsed / LEASE_MS) + 1;
    expect(leases).toBeLessThanOrEqual(2 * periods + 4);
    expect(flushes).toBeLessThanOrEqual(2 * periods);
    expect(during.filter((c) => c.method === "admit" || c.method === "record")).toEqual([]);
    console.log(
      JSON.stringify({
        requests: measured.length,
        elapsed,
        leases,
        flushes,
        perRequest: during.length / 200,
      }),
    );
    expect(during.length / measured.length).toBeLessThan(0.5);
    await Promise.all([...warm, ...measured].map((c) => waitOnExecutionContext(c.ctx)));
  }, 120_000);
});
