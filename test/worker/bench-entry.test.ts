import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { countingNamespace, type CallTally } from "../../bench/do-proxy";
import entry from "../../bench/gateway-entry";
import { limiterFor } from "../../src/limits/client";
import { createKey, setup, uniqueName, userMessage } from "./helpers";

/**
 * The bench's instrumented gateway (bench/gateway-entry.ts) must answer exactly as the gateway does, with
 * real Durable Object stubs behind its counting proxies; only then are its counts worth reading.
 */
type Stats = { started: number; returned: number; completed: number; calls: CallTally };

async function stats(): Promise<Stats> {
  const ctx = createExecutionContext();
  const res = await entry.fetch(new Request("http://bench.test/__bench/stats"), env, ctx);
  return (await res.json()) as Stats;
}

async function viaEntry(key: string, body: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await entry.fetch(
    new Request("http://bench.test/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    env,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return new Response(text, res);
}

describe("the bench's counting proxy on real Durable Objects", () => {
  it("reaches the same object as the namespace itself, with the same answers", async () => {
    const tally: CallTally = {};
    const counted = {
      LIMITER: countingNamespace(env.LIMITER, { label: "LIMITER", tally, delayMs: () => 0 }),
    };
    const scope = { kind: "key" as const, name: uniqueName("bench") };
    const seed = { status: "active" as const, expiresAt: null, limits: { rpm: 2 } };
    expect(await limiterFor(counted, scope).admit(seed)).toMatchObject({ ok: true });
    expect(await limiterFor(env, scope).admit(seed)).toMatchObject({ ok: true });
    expect(await limiterFor(counted, scope).admit(seed)).toMatchObject({ ok: false, reason: "rpm" });
    expect(tally).toEqual({ "LIMITER.admit": 2 });
  });
});

describe("bench/gateway-entry.ts", () => {
  it("answers a call as the gateway does and counts its Durable Object calls once its waitUntil work is done", async () => {
    const { model } = await setup();
    const { key } = await createKey({ limits: { rpm: 1000, tpm: 1_000_000 } });
    const before = await stats();
    const res = await viaEntry(key, { model, messages: userMessage("counted") });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toContain("counted");
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("1000");
    const after = await stats();
    expect(after.started - before.started).toBe(1);
    expect(after.completed - before.completed).toBe(1);
    const delta = (name: string) => (after.calls[name] ?? 0) - (before.calls[name] ?? 0);
    // A new key: its first call fetches the key's lease (the one round trip before the upstream call);
    // usage goes in one flush per scope, the key's and the provider's. Nothing per call besides.
    expect(delta("LIMITER.lease")).toBe(1);
    expect(delta("LIMITER.flush")).toBe(2);
    expect(delta("LIMITER.admit")).toBe(0);
    expect(delta("LIMITER.record")).toBe(0);
  });

  it("passes a refusal through unchanged", async () => {
    const res = await viaEntry("bl-not-a-key", { model: "x/y", messages: userMessage() });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("Invalid API key.");
  });
});
