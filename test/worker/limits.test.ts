import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  admin,
  anthropicFormat,
  callWorker,
  chat,
  chatSettled,
  createKey,
  messages,
  putProvider,
  settledCall,
  sseData,
  uniqueName,
  userMessage,
  type Json,
} from "./helpers";

type Live = {
  requests?: { limit: number; remaining: number };
  tokens?: { limit: number; remaining: number };
  budget?: { usd: number; spentUsd: number; remainingUsd: number };
  concurrency?: { limit: number; inFlight: number };
};

/** The key's live counters as the admin API shows them. */
async function live(id: string): Promise<Live> {
  return (await admin("GET", `/keys/${id}`)).json.live as Live;
}

/** An Anthropic-format call whose after-response work (recording, refunds) is done when it resolves. */
function messagesSettled(key: string, body: unknown, headers: Record<string, string> = {}) {
  return settledCall("/v1/messages", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-api-key": key,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

async function keyWith(limits: Json, providerOverrides: Json = {}, keyExtra: Json = {}) {
  const provider = uniqueName();
  await putProvider(provider, providerOverrides);
  const { id, key } = await createKey({ limits, ...keyExtra });
  return { id, key, provider, model: `${provider}/databricks-claude-sonnet-4` };
}

describe("requests per minute", () => {
  it("admits exactly rpm of 60 concurrent calls, every run", async () => {
    for (let run = 0; run < 2; run++) {
      const { key, model } = await keyWith({ rpm: 20 });
      const statuses = await Promise.all(
        Array.from({ length: 60 }, () =>
          chat(key, { model, messages: userMessage() }).then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          }),
        ),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    }
  });

  it("answers 429 with retry-after and says which limit, and sets x-ratelimit headers on success", async () => {
    const { key, model } = await keyWith({ rpm: 2 });
    const first = await chat(key, { model, messages: userMessage() });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(first.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?s$/);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    const refused = await chat(key, { model, messages: userMessage() });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toMatch(/2 requests per minute/);
  });

  it("gives the request back when the call never reaches the upstream", async () => {
    const { key, model } = await keyWith({ rpm: 1 });
    expect((await chatSettled(key, "{bad json")).res.status).toBe(400);
    expect((await chatSettled(key, { model: "nowhere/m", messages: userMessage() })).res.status).toBe(404);
    // count_tokens to an openai provider is admitted, answered by the gateway, and given back.
    const counted = await messages(key, { model, messages: userMessage() }, {}, "/v1/messages/count_tokens");
    expect(counted.status).toBe(200);
    expect(counted.headers.get("x-bricklane-estimated")).toBe("true");
    // The one request of the minute is still there (the isolate holds it in its lease, which the
    // limiter counts as used until the lease is returned, so the admin view cannot show it).
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(429);
  });

  it("rolls the window over: a request a minute later is admitted again (limiter state, direct)", async () => {
    const stub = env.LIMITER.get(env.LIMITER.idFromName(`key:rollover-${uniqueName()}`));
    await stub.configure({ status: "active", expiresAt: null, limits: { rpm: 2 } });
    const t0 = 1_800_000_000_000;
    expect((await stub.admit(null, t0)).ok).toBe(true);
    expect((await stub.admit(null, t0 + 30_000)).ok).toBe(true);
    const refused = await stub.admit(null, t0 + 59_999);
    expect(refused).toMatchObject({ ok: false, reason: "rpm", retryAfterMs: 1 });
    // The first request leaves the window at t0 + 60 s; the second is still in it.
    expect((await stub.admit(null, t0 + 60_000)).ok).toBe(true);
    expect((await stub.admit(null, t0 + 60_001)).ok).toBe(false);
    expect((await stub.admit(null, t0 + 90_000)).ok).toBe(true);
  });

  it("keeps requests and tokens in separate windows", async () => {
    const stub = env.LIMITER.get(env.LIMITER.idFromName(`key:windows-${uniqueName()}`));
    await stub.configure({ status: "active", expiresAt: null, limits: { rpm: 100, tpm: 1000 } });
    const t0 = 1_800_000_000_000;
    const a = await stub.admit(null, t0);
    expect(a.ok).toBe(true);
    await stub.record(
      null,
      {
        provider: "p",
        model: "m",
        inputTokens: 600,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 400,
        reasoningTokens: 0,
        costUsd: 0,
        error: false,
      },
      t0 + 10,
    );
    // 1000 tokens spent: tokens refuse, while 99 requests are still free.
    expect(await stub.admit(null, t0 + 20)).toMatchObject({ ok: false, reason: "tpm" });
    expect((await stub.live(t0 + 20)).requests?.remaining).toBe(99);
    expect((await stub.admit(null, t0 + 60_011)).ok).toBe(true);
  });
});

describe("tokens per minute, from streamed usage", () => {
  it("counts the tokens of a streamed OpenAI-format call (usage chunk removed for the client)", async () => {
    const { key, id, model } = await keyWith({ tpm: 20 });
    const { text } = await chatSettled(key, {
      model,
      messages: userMessage("a prompt of some length"),
      stream: true,
    });
    const data = sseData(text);
    expect(data.some((d) => d.includes('"usage":{'))).toBe(false);
    expect((await live(id)).tokens?.remaining).toBeLessThan(20);
    const refused = await chat(key, { model, messages: userMessage() });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /20 tokens per minute/,
    );
  });

  it("counts the tokens of a streamed Anthropic-format call, and refuses in Anthropic's shape", async () => {
    const { key, id, provider } = await keyWith({ tpm: 8 }, anthropicFormat());
    const body = {
      model: `${provider}/m`,
      max_tokens: 100,
      stream: true,
      messages: userMessage("hello there"),
    };
    const first = await messagesSettled(key, body);
    expect(first.res.status).toBe(200);
    expect(first.text).toContain("event: message_stop");
    expect((await live(id)).tokens?.remaining).toBe(0);
    const refused = await messages(key, body);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    const err = (await refused.json()) as { type: string; error: { type: string } };
    expect(err).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  });

  it("estimates tokens when the upstream reports none, so limits still trip", async () => {
    const { key, id, model } = await keyWith({ tpm: 5 });
    await chatSettled(
      key,
      { model, messages: userMessage("x".repeat(200)), stream: true },
      { "x-emulator-fault": "no_usage=1" },
    );
    expect((await live(id)).tokens?.remaining).toBe(0);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(429);
  });
});

describe("budgets", () => {
  it("stops a key with a budget of a few cents once streamed calls have spent it", async () => {
    // $100 per million output tokens: each call of ~20 output tokens costs ~$0.002.
    const pricing = { "databricks-claude-sonnet-4": { inputPerMTok: 50, outputPerMTok: 100 } };
    const { key, id, model } = await keyWith({ budget: { usd: 0.01, period: "day" } }, { pricing });
    let calls = 0;
    for (; calls < 50; calls++) {
      const { res, text } = await chatSettled(key, { model, messages: userMessage("spend"), stream: true });
      if (res.status === 429) {
        const body = JSON.parse(text) as { error: { message: string } };
        expect(body.error.message).toMatch(/budget of \$0.01 per day/);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        break;
      }
      expect(res.status).toBe(200);
      // Each streamed call is charged once it has ended: the next call sees what it spent.
      expect((await live(id)).budget?.spentUsd).toBeGreaterThan(0);
    }
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(50);
    // The refusal may come from the isolate's own count; the limiter has it too, since every call's
    // work after the response (its usage batch included) was waited for.
    const { budget } = await live(id);
    expect(budget?.spentUsd).toBeGreaterThanOrEqual(0.01);
    expect(budget?.remainingUsd).toBe(0);
  });
});

describe("teams", () => {
  it("shares a team's limit between its keys", async () => {
    const team = uniqueName("team");
    expect((await admin("PUT", `/teams/${team}`, { limits: { rpm: 3 } })).status).toBe(200);
    const provider = uniqueName();
    await putProvider(provider);
    const a = await createKey({ team });
    const b = await createKey({ team });
    const model = `${provider}/m`;
    expect((await chat(a.key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chat(b.key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chat(a.key, { model, messages: userMessage() })).status).toBe(200);
    const refused = await chat(b.key, { model, messages: userMessage() });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      new RegExp(`team '${team}'`),
    );
    expect((await chat(a.key, { model, messages: userMessage() })).status).toBe(429);
  });

  it("validates and manages teams", async () => {
    const team = uniqueName("team");
    expect((await admin("PUT", `/teams/${team}`, { limits: { rpm: 0 } })).status).toBe(400);
    expect((await admin("PUT", `/teams/${team}`, { limits: { rpm: 5 }, extra: true })).status).toBe(400);
    expect(
      (await admin("PUT", `/teams/${team}`, { limits: { budget: { usd: 10, period: "week" } } })).status,
    ).toBe(200);
    const got = await admin("GET", `/teams/${team}`);
    expect(got.json).toMatchObject({ name: team, limits: { budget: { usd: 10, period: "week" } } });
    expect((await admin("GET", "/teams")).json.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: team })]),
    );
    expect((await admin("DELETE", `/teams/${team}`)).status).toBe(200);
    expect((await admin("GET", `/teams/${team}`)).status).toBe(404);
  });
});

describe("providers: a global cap", () => {
  it("limits every key that calls the provider", async () => {
    const provider = uniqueName();
    await putProvider(provider, { limits: { rpm: 2 } });
    const a = await createKey();
    const b = await createKey();
    const model = `${provider}/m`;
    expect((await chat(a.key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chat(b.key, { model, messages: userMessage() })).status).toBe(200);
    const refused = await chat(a.key, { model, messages: userMessage() });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      new RegExp(`provider '${provider}'`),
    );
  });

  it("a call refused by the provider gives the key its request back", async () => {
    const provider = uniqueName();
    await putProvider(provider, { limits: { rpm: 1 } });
    const uncapped = uniqueName();
    await putProvider(uncapped);
    const { key } = await createKey({ limits: { rpm: 5 } });
    const model = `${provider}/m`;
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chatSettled(key, { model, messages: userMessage() })).res.status).toBe(429);
    // The key has exactly its 4 other requests of the minute left.
    for (let i = 0; i < 4; i++) {
      expect((await chatSettled(key, { model: `${uncapped}/m`, messages: userMessage() })).res.status).toBe(
        200,
      );
    }
    expect((await chatSettled(key, { model: `${uncapped}/m`, messages: userMessage() })).res.status).toBe(
      429,
    );
  });
});

describe("concurrency", () => {
  it("holds a slot while a stream is open and releases it when the client disconnects", async () => {
    const { key, id, model } = await keyWith({ maxConcurrent: 1 });
    const open = await callWorker("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "x-emulator-fault": "chunks=200;chunk_delay_ms=50" },
      body: JSON.stringify({ model, messages: userMessage(), stream: true }),
    });
    const reader = open.res.body!.getReader();
    await reader.read();
    const second = await chat(key, { model, messages: userMessage() });
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(
      /at most 1 at a time/,
    );
    await reader.cancel();
    await open.settled();
    expect((await live(id)).concurrency?.inFlight).toBe(0);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
  });

  it("releases the slot when the upstream fails", async () => {
    const { key, id, model } = await keyWith({ maxConcurrent: 1 });
    const failed = await chatSettled(
      key,
      { model, messages: userMessage() },
      { "x-emulator-fault": "status=500" },
    );
    expect(failed.res.status).toBe(502);
    expect((await live(id)).concurrency?.inFlight).toBe(0);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
  });

  it("releases the slot when a stream is cut mid-way", async () => {
    const { key, id, model } = await keyWith({ maxConcurrent: 1 });
    await chatSettled(
      key,
      { model, messages: userMessage(), stream: true },
      { "x-emulator-fault": "cut_after=2" },
    );
    expect((await live(id)).concurrency?.inFlight).toBe(0);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
  });
});

describe("limits apply on every route that reaches an upstream", () => {
  it("chat completions, messages and count_tokens share the key's window", async () => {
    const provider = uniqueName();
    await putProvider(provider, anthropicFormat());
    const { key } = await createKey({ limits: { rpm: 3 } });
    const model = `${provider}/m`;
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    expect((await messages(key, { model, max_tokens: 10, messages: userMessage() })).status).toBe(200);
    expect(
      (await messages(key, { model, messages: userMessage() }, {}, "/v1/messages/count_tokens")).status,
    ).toBe(200);
    expect((await messages(key, { model, max_tokens: 10, messages: userMessage() })).status).toBe(429);
    expect((await chat(key, { model, messages: userMessage(), stream: true })).status).toBe(429);
  });
});

describe("changes apply to the next call", () => {
  it("PATCH of a key's limits", async () => {
    const { key, id, model } = await keyWith({ rpm: 1 });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(429);
    await admin("PATCH", `/keys/${id}`, { limits: { rpm: 10 } });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { limits: null });
    const res = await chat(key, { model, messages: userMessage() });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
  });
});

describe("usage", () => {
  it("reports requests, tokens, cost and errors per key, team and provider, per day and model", async () => {
    const team = uniqueName("team");
    await admin("PUT", `/teams/${team}`, {});
    const pricing = { m1: { inputPerMTok: 1000, outputPerMTok: 2000 } };
    const provider = uniqueName();
    await putProvider(provider, { pricing });
    const { key, id } = await createKey({ team });
    expect((await chatSettled(key, { model: `${provider}/m1`, messages: userMessage() })).res.status).toBe(
      200,
    );
    await chatSettled(key, { model: `${provider}/m1`, messages: userMessage(), stream: true });
    const failed = await chatSettled(
      key,
      { model: `${provider}/m2`, messages: userMessage() },
      { "x-emulator-fault": "status=503" },
    );
    expect(failed.res.status).toBe(502);

    for (const query of [`key=${id}`, `team=${team}`, `provider=${provider}`]) {
      const { json } = await admin("GET", `/usage?${query}`);
      expect((json.total as { requests: number }).requests).toBe(3);
      const rows = json.data as Array<{
        model: string;
        requests: number;
        inputTokens: number;
        outputTokens: number;
        costUsd: number;
        errors: number;
      }>;
      const m1 = rows.find((r) => r.model === "m1");
      const m2 = rows.find((r) => r.model === "m2");
      expect(m1?.requests).toBe(2);
      expect(m1?.inputTokens).toBeGreaterThan(0);
      expect(m1?.costUsd).toBeCloseTo(
        ((m1?.inputTokens ?? 0) * 1000 + (m1?.outputTokens ?? 0) * 2000) / 1e6,
        10,
      );
      expect(m2).toMatchObject({ requests: 1, errors: 1, inputTokens: 0, costUsd: 0 });
    }
  });

  it("counts a translated stream that the upstream cut as an error", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const { key, id } = await createKey();
    const { text } = await messagesSettled(
      key,
      { model: `${provider}/m`, max_tokens: 50, stream: true, messages: userMessage() },
      { "x-emulator-fault": "cut_after=2" },
    );
    expect(text).toContain("event: error");
    expect(((await admin("GET", `/usage?key=${id}`)).json.total as { errors: number }).errors).toBe(1);
  });

  it("validates the query", async () => {
    expect((await admin("GET", "/usage?key=not-a-key-id")).status).toBe(400);
    expect((await admin("GET", "/usage?key=key_0000000000000000&team=a")).status).toBe(400);
    expect((await admin("GET", "/usage?team=a&from=2026-13-01x")).status).toBe(400);
    expect((await admin("GET", "/usage?team=a&from=2026-02-01&to=2026-01-01")).status).toBe(400);
    const empty = await admin("GET", "/usage?team=nobody&from=2026-01-01&to=2026-01-31");
    expect(empty.json).toMatchObject({
      from: "2026-01-01",
      to: "2026-01-31",
      total: { requests: 0 },
      data: [],
    });
  });
});

describe("revocation still wins", () => {
  it("a disabled key with limits gets 401, not 429", async () => {
    const { key, id, model } = await keyWith({ rpm: 1 });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { disabled: true });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(401);
  });
});
