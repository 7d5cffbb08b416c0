import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  anthropicFormat,
  callWorker,
  chat,
  createKey,
  emulatorRequests,
  messages,
  putProvider,
  sseData,
  uniqueName,
  userMessage,
  type Json,
} from "./helpers";

/**
 * A provider that tags its upstream requests with `x-which: <name>` (so the emulator's log says which
 * destination was tried) and, optionally, always fails with an emulator fault.
 */
async function provider(fault?: string, overrides: Json = {}): Promise<string> {
  const name = uniqueName("d");
  await putProvider(name, {
    headers: { "x-which": name, ...(fault && { "x-emulator-fault": fault }) },
    ...overrides,
  });
  return name;
}

async function route(body: Json): Promise<string> {
  const name = uniqueName("r");
  const r = await admin("PUT", `/routes/${name}`, body);
  if (r.status !== 200) throw new Error(`route setup failed: ${JSON.stringify(r.json)}`);
  return name;
}

/** Which destinations the emulator saw for the call tagged `marker`, in order. */
async function tried(marker: string): Promise<string[]> {
  return (await emulatorRequests())
    .filter((r) => r.headers["x-trace"] === marker)
    .map((r) => r.headers["x-which"] ?? "?");
}

/** A call tagged `marker`; `settled()` waits for what it reported after its response (failures, usage). */
async function call(key: string, model: string, extra: Json = {}) {
  const marker = crypto.randomUUID();
  const { res, settled } = await callWorker("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-trace": marker },
    body: JSON.stringify({ model, messages: userMessage("via a route"), ...extra }),
  });
  return { res, marker, settled };
}

describe("route config", () => {
  it("is stored, listed, read and deleted through the admin API", async () => {
    const a = await provider();
    const name = await route({ destinations: [{ provider: a, model: "m", weight: 2 }], retries: 1 });
    expect((await admin("GET", `/routes/${name}`)).json).toMatchObject({ name, retries: 1 });
    expect((await admin("GET", "/routes")).json.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ name })]),
    );
    expect((await admin("DELETE", `/routes/${name}`)).status).toBe(200);
    expect((await admin("GET", `/routes/${name}`)).status).toBe(404);
  });

  it.each([
    ["no destinations", { destinations: [] }],
    ["an unknown field", { destinations: [{ provider: "a", model: "m" }], retry: 2 }],
    ["an unknown failure kind", { destinations: [{ provider: "a", model: "m" }], retryOn: ["400"] }],
    ["a zero weight", { destinations: [{ provider: "a", model: "m", weight: 0 }] }],
    ["too many retries", { destinations: [{ provider: "a", model: "m" }], retries: 50 }],
  ])("rejects %s", async (_n, body) => {
    expect((await admin("PUT", `/routes/${uniqueName("r")}`, body)).status).toBe(400);
  });

  it("404s a model name that is neither a provider's model nor a route", async () => {
    const { key } = await createKey();
    const res = await chat(key, { model: "no-such-route", messages: userMessage() });
    expect(res.status).toBe(404);
  });
});

describe("fallbacks", () => {
  it("answers from the fallback when the first destination fails, and the headers say so", async () => {
    const bad = await provider("status=500");
    const good = await provider();
    const name = await route({
      destinations: [{ provider: bad, model: "m" }],
      fallbacks: [{ provider: good, model: "g" }],
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(good);
    expect(res.headers.get("x-bricklane-model")).toBe("g");
    expect(res.headers.get("x-bricklane-attempts")).toBe("2");
    expect(
      ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message
        .content,
    ).toContain("via a route");
    expect(await tried(marker)).toEqual([bad, good]);
  });

  it("does the same for a streamed call", async () => {
    const bad = await provider("status=503");
    const good = await provider();
    const name = await route({
      destinations: [{ provider: bad, model: "m" }],
      fallbacks: [{ provider: good, model: "m" }],
    });
    const { key } = await createKey();
    const { res } = await call(key, name, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(good);
    expect(sseData(await res.text()).at(-1)).toBe("[DONE]");
  });

  it("goes down the fallbacks in order, on 5xx, 429 and connection errors", async () => {
    const a = await provider("status=500");
    const b = await provider("status=429;retry_after=0");
    const c = await provider(undefined, { baseUrl: "http://127.0.0.1:9/mlflow" });
    const d = await provider();
    const name = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [b, c, d].map((p) => ({ provider: p, model: "m" })),
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(d);
    expect(res.headers.get("x-bricklane-attempts")).toBe("4");
    expect(await tried(marker)).toEqual([a, b, d]);
  });

  it("answers with the last failure when every destination fails", async () => {
    const a = await provider("status=500");
    const b = await provider("status=429;retry_after=7");
    const name = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
    });
    const { key } = await createKey();
    const { res } = await call(key, name);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.headers.get("x-bricklane-attempts")).toBe("2");
  });

  it("never retries or falls back on a 400 the request caused", async () => {
    const a = await provider("status=400");
    const b = await provider();
    const name = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
      retries: 2,
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name);
    expect(res.status).toBe(400);
    expect(await tried(marker)).toEqual([a]);
  });

  it("falls back on the provider's 401 only when retryOn names auth", async () => {
    const a = await provider("status=401");
    const b = await provider();
    const { key } = await createKey();
    const strict = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
    });
    expect((await call(key, strict)).res.status).toBe(502);
    const lenient = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
      retryOn: ["5xx", "auth"],
    });
    const { res } = await call(key, lenient);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(b);
  });

  it("never retries after the first byte: a stream cut mid-way ends in an in-band error", async () => {
    const a = await provider("cut_after=2");
    const b = await provider();
    const name = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
      retries: 2,
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name, { stream: true });
    expect(res.status).toBe(200);
    const last = sseData(await res.text()).at(-1) ?? "";
    expect(JSON.parse(last)).toHaveProperty("error");
    expect(await tried(marker)).toEqual([a]);
  });

  it("mixes formats: an anthropic destination failing, an openai fallback serving, both client formats", async () => {
    const ant = await provider("status=529", anthropicFormat());
    const oai = await provider();
    const name = await route({
      destinations: [{ provider: ant, model: "claude" }],
      fallbacks: [{ provider: oai, model: "gpt" }],
    });
    const { key } = await createKey();
    const viaChat = await chat(key, { model: name, messages: userMessage("mixed") });
    expect(viaChat.status).toBe(200);
    expect(viaChat.headers.get("x-bricklane-provider")).toBe(oai);
    const viaMessages = await messages(key, {
      model: name,
      max_tokens: 50,
      stream: true,
      messages: userMessage("mixed"),
    });
    expect(viaMessages.status).toBe(200);
    expect(viaMessages.headers.get("x-bricklane-provider")).toBe(oai);
    expect(await viaMessages.text()).toContain("event: message_stop");
  });

  it("serves an anthropic destination for an OpenAI client by translation", async () => {
    const ant = await provider(undefined, anthropicFormat());
    const name = await route({ destinations: [{ provider: ant, model: "claude" }] });
    const { key } = await createKey();
    const res = await chat(key, { model: name, messages: userMessage("translated") });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: Array<{ message: { content: string } }> };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message.content).toContain("translated");
  });
});

describe("retries", () => {
  it("retries a destination, honouring retry-after, before falling back", async () => {
    const a = await provider("status=429;retry_after=1");
    const b = await provider();
    const name = await route({
      destinations: [{ provider: a, model: "m" }],
      fallbacks: [{ provider: b, model: "m" }],
      retries: 1,
      backoff: { baseMs: 10, maxMs: 20 },
    });
    const { key } = await createKey();
    const started = Date.now();
    const { res, marker } = await call(key, name);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-attempts")).toBe("3");
    expect(await tried(marker)).toEqual([a, a, b]);
    // retry-after: 1 s, though the configured backoff is at most 20 ms.
    expect(elapsed).toBeGreaterThanOrEqual(950);
  });
});

describe("timeouts and deadline", () => {
  it("moves on when a destination gives no first byte within the route's firstByteTimeoutMs", async () => {
    // A destination that never answers: only the route's timeout can move the call on.
    const slow = await provider("hang=1");
    const fast = await provider();
    const name = await route({
      destinations: [{ provider: slow, model: "m" }],
      fallbacks: [{ provider: fast, model: "m" }],
      firstByteTimeoutMs: 200,
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(fast);
    expect(await tried(marker)).toEqual([slow, fast]);
  });

  it("answers 504 once the route's deadline has passed, without starting more attempts", async () => {
    // Destinations that never answer: only the deadline can end the call.
    const slow = await provider("hang=1");
    const other = await provider("hang=1");
    const name = await route({
      destinations: [{ provider: slow, model: "m" }],
      fallbacks: [{ provider: other, model: "m" }],
      deadlineMs: 400,
    });
    const { key } = await createKey();
    const { res, marker } = await call(key, name);
    expect(res.status).toBe(504);
    expect(await tried(marker)).toEqual([slow]);
  });
});

describe("cooldown", () => {
  it("skips a destination that keeps failing, shares that through its Durable Object, and tries it again later", async () => {
    const bad = await provider("status=500");
    const good = await provider();
    const name = await route({
      destinations: [{ provider: bad, model: "m" }],
      fallbacks: [{ provider: good, model: "m" }],
      cooldown: { afterFailures: 2, forMs: 1500 },
    });
    const { key } = await createKey();
    const cooldowns = env.COOLDOWNS.get(env.COOLDOWNS.idFromName(`route:${name}`));
    for (let i = 0; i < 2; i++) {
      const { res, marker, settled } = await call(key, name);
      expect(res.headers.get("x-bricklane-attempts")).toBe("2");
      await res.text();
      // The failure is reported to the route's object after the response.
      await settled();
      expect(await tried(marker)).toEqual([bad, good]);
    }
    const until = (await cooldowns.get()).coolingUntil[`${bad}/m`] ?? 0;
    expect(until).toBeGreaterThan(Date.now());

    const cooling = await call(key, name);
    expect(cooling.res.headers.get("x-bricklane-attempts")).toBe("1");
    expect(cooling.res.headers.get("x-bricklane-provider")).toBe(good);
    expect(await tried(cooling.marker)).toEqual([good]);

    // The cooldown is a span of time: once its end (as the object set it) has passed, the destination is back.
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 1)));
    const after = await call(key, name);
    expect(after.res.status).toBe(200);
    expect(await tried(after.marker)).toEqual([bad, good]);
  });
});

describe("split", () => {
  it("sends about the configured share of calls to each destination", async () => {
    const a = await provider();
    const b = await provider();
    const name = await route({
      destinations: [
        { provider: a, model: "m", weight: 3 },
        { provider: b, model: "m", weight: 1 },
      ],
    });
    const { key } = await createKey();
    const served = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await chat(key, { model: name, messages: userMessage() });
        await res.arrayBuffer();
        return res.headers.get("x-bricklane-provider");
      }),
    );
    const shareA = served.filter((p) => p === a).length / served.length;
    expect(served.every((p) => p === a || p === b)).toBe(true);
    // 75 % expected; ±20 points is more than 4.6 standard deviations for 100 calls (the split itself is
    // tested exactly, with a seeded generator, in test/unit/routing-plan.test.ts).
    expect(shareA).toBeGreaterThan(0.55);
    expect(shareA).toBeLessThan(0.95);
  });
});

describe("keys and accounting", () => {
  it("lets a key's allowlist name routes", async () => {
    const a = await provider();
    const name = await route({ destinations: [{ provider: a, model: "m" }] });
    const other = await route({ destinations: [{ provider: a, model: "m" }] });
    const { key } = await createKey({ models: [name] });
    expect((await call(key, name)).res.status).toBe(200);
    expect((await call(key, other)).res.status).toBe(403);
    expect((await call(key, `${a}/m`)).res.status).toBe(403);
  });

  it("charges usage to the destination that served, and records the failed attempt as the other's error", async () => {
    const bad = await provider("status=500");
    const good = await provider();
    const name = await route({
      destinations: [{ provider: bad, model: "m" }],
      fallbacks: [{ provider: good, model: "g" }],
    });
    const { key, id } = await createKey();
    const served = await call(key, name);
    expect(served.res.status).toBe(200);
    await served.res.text();
    await served.settled();
    type Usage = {
      total: { requests: number; errors: number };
      data: Array<{ provider: string; model: string; requests: number; errors: number }>;
    };
    const usage = async (q: string) => (await admin("GET", `/usage?${q}`)).json as unknown as Usage;
    const keyUsage = await usage(`key=${id}`);
    expect(keyUsage.data).toEqual([
      expect.objectContaining({ provider: good, model: "g", requests: 1, errors: 0 }),
    ]);
    expect((await usage(`provider=${bad}`)).total).toMatchObject({ requests: 1, errors: 1 });
  });

  it("falls back when a destination's provider cap refuses", async () => {
    const capped = await provider(undefined, { limits: { rpm: 1 } });
    const spare = await provider();
    const name = await route({
      destinations: [{ provider: capped, model: "m" }],
      fallbacks: [{ provider: spare, model: "m" }],
    });
    const { key } = await createKey();
    expect((await call(key, name)).res.headers.get("x-bricklane-provider")).toBe(capped);
    const second = await call(key, name);
    expect(second.res.status).toBe(200);
    expect(second.res.headers.get("x-bricklane-provider")).toBe(spare);
  });
});
