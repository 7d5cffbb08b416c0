import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/observe/record";
import { adminCalls, deliver, observedWorker } from "./call-log-helpers";
import {
  admin,
  anthropicFormat,
  createKey,
  putProvider,
  sseData,
  sseEvents,
  uniqueName,
  userMessage,
  type Json,
} from "./helpers";

const PRICE = { inputPerMTok: 3, outputPerMTok: 15 };

/** A provider (with a price, so cost shows) and a key on a team. */
async function setupCall(providerOverrides: Json = {}, keyExtra: Json = {}) {
  const provider = uniqueName();
  await putProvider(provider, { pricing: { m: PRICE }, ...providerOverrides });
  const team = uniqueName("t");
  // A key may name only a team that exists.
  expect((await admin("PUT", `/teams/${team}`, {})).status).toBe(200);
  const { id, key } = await createKey({ name: "call-log test", team, ...keyExtra });
  return { provider, team, id, key, model: `${provider}/m` };
}

/** Reads a stream's first chunk, then cancels it as a client that leaves does; resolves once the call settled. */
async function leaveAfterFirstChunk(res: Response, settled: () => Promise<void>): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  expect((await reader.read()).done).toBe(false);
  await reader.cancel();
  await settled();
}

const CANCELLED = { status: 200, stream: true, outcome: "client_cancelled", errorCode: null };

const chatInit = (key: string, body: Json, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: {
    authorization: `Bearer ${key}`,
    "content-type": "application/json",
    "user-agent": "call-log-test/1.0",
    ...headers,
  },
  body: JSON.stringify(body),
});

const messagesInit = (key: string, body: Json, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: {
    "x-api-key": key,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
    ...headers,
  },
  body: JSON.stringify(body),
});

function only(sent: CallRecord[]): CallRecord {
  expect(sent).toHaveLength(1);
  const [record] = sent;
  if (!record) throw new Error("no record");
  return record;
}

describe("the call log: one record per call that reached an upstream", () => {
  it("a streamed call: one record with the tokens the client saw, its cost, timing and who made it", async () => {
    const w = observedWorker();
    const { id, key, team, provider, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, {
        model,
        messages: userMessage("count me"),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(res.status).toBe(200);
    const chunks = sseData(await res.text())
      .filter((d) => d !== "[DONE]")
      .map((d) => JSON.parse(d) as { usage?: { prompt_tokens: number; completion_tokens: number } | null });
    const usage = chunks.find((c) => c.usage)?.usage;
    if (!usage) throw new Error("the client got no usage");
    await settled();

    const r = only(w.sent);
    expect(r).toMatchObject({
      requestId: res.headers.get("x-request-id"),
      keyId: id,
      keyName: "call-log test",
      team,
      route: null,
      provider,
      model: "m",
      requestType: "chat",
      status: 200,
      stream: true,
      outcome: "complete",
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      tokensEstimated: false,
      attempts: 1,
      errorCode: null,
      userAgent: "call-log-test/1.0",
      requestTags: null,
    });
    expect(r.costUsd).toBeCloseTo((usage.prompt_tokens * 3 + usage.completion_tokens * 15) / 1e6, 12);
    expect(r.firstByteMs).not.toBeNull();
    expect(r.firstByteMs ?? Infinity).toBeLessThanOrEqual(r.durationMs);
    expect(r).not.toHaveProperty("requestBody");
    // One Analytics Engine data point, with the same numbers.
    expect(w.points).toHaveLength(1);
    expect(w.points[0]?.doubles?.slice(0, 2)).toEqual([usage.prompt_tokens, usage.completion_tokens]);
    expect(w.points[0]?.blobs?.slice(0, 3)).toEqual([id, team, provider]);
  });

  it("a translated stream (Anthropic client, OpenAI provider) counts the tokens the client saw", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/messages",
      messagesInit(key, { model, max_tokens: 100, messages: userMessage("translate me"), stream: true }),
    );
    const events = sseEvents(await res.text());
    // The OpenAI upstream reports usage at the end, so the client's totals come in message_delta.
    const delta = events.find((e) => e.event === "message_delta")?.data as {
      usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number };
    };
    await settled();
    const r = only(w.sent);
    expect(r).toMatchObject({
      requestType: "messages",
      stream: true,
      outcome: "complete",
      tokensEstimated: false,
    });
    expect(r.inputTokens).toBeGreaterThan(0);
    expect(r.inputTokens).toBe(delta.usage.input_tokens + delta.usage.cache_read_input_tokens);
    expect(r.outputTokens).toBe(delta.usage.output_tokens);
  });

  it("a JSON answer: the tokens in its usage, stream false", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall(anthropicFormat());
    const { res, settled } = await w.fetch(
      "/v1/messages",
      messagesInit(key, { model, max_tokens: 100, messages: userMessage("json please") }),
    );
    const body = (await res.json()) as { usage: { input_tokens: number; output_tokens: number } };
    await settled();
    const r = only(w.sent);
    expect(r).toMatchObject({
      status: 200,
      stream: false,
      outcome: "complete",
      inputTokens: body.usage.input_tokens,
      outputTokens: body.usage.output_tokens,
    });
  });

  it("records leave through the isolate's batches (one message each), each once (grouping: test/unit/call-log-outbox.test.ts)", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall(anthropicFormat());
    const calls = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        w.fetch(
          "/v1/messages",
          messagesInit(key, { model, max_tokens: 10, messages: userMessage(`batch ${i}`) }),
        ),
      ),
    );
    for (const { res } of calls) expect(res.status).toBe(200);
    await Promise.all(calls.map(async ({ res, settled }) => (await res.text(), settled())));
    expect(w.sent).toHaveLength(5);
    expect(new Set(w.sent.map((r) => r.id)).size).toBe(5);
    expect(w.batches.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it("a stream the upstream cuts: one record, an error, with estimated tokens", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage(), stream: true }, { "x-emulator-fault": "cut_after=3" }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"error"');
    await settled();
    const r = only(w.sent);
    expect(r).toMatchObject({
      status: 200,
      stream: true,
      outcome: "upstream_cut",
      errorCode: "upstream_error",
      tokensEstimated: true,
    });
    expect(r.inputTokens).toBeGreaterThan(0);
  });

  it("a client that leaves mid-stream: one record, client_cancelled", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(
        key,
        { model, messages: userMessage(), stream: true },
        { "x-emulator-fault": "chunks=200;chunk_delay_ms=20" },
      ),
    );
    await leaveAfterFirstChunk(res, settled);
    expect(only(w.sent)).toMatchObject(CANCELLED);
  });

  it("a client that leaves a translated stream mid-way: one record, client_cancelled", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch("/v1/messages", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
        "x-emulator-fault": "chunks=200;chunk_delay_ms=20",
      },
      body: JSON.stringify({ model, max_tokens: 100, messages: userMessage(), stream: true }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await leaveAfterFirstChunk(res, settled);
    expect(only(w.sent)).toMatchObject(CANCELLED);
  });

  it("a failed upstream: one record with the status the client got and the error's code", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage(), stream: true }, { "x-emulator-fault": "status=500" }),
    );
    expect(res.status).toBe(502);
    await res.arrayBuffer();
    await settled();
    const r = only(w.sent);
    expect(r).toMatchObject({
      status: 502,
      stream: true,
      outcome: "upstream_error",
      errorCode: "upstream_error",
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      attempts: 1,
    });
    expect(r.firstByteMs).not.toBeNull();
  });

  it("a route that falls back: one record, the destination that served, every attempt counted", async () => {
    const w = observedWorker();
    const { key, provider } = await setupCall();
    const broken = uniqueName();
    // Nothing listens on port 1: the connection is refused, a failure a route moves on from.
    await putProvider(broken, { baseUrl: "http://127.0.0.1:1/mlflow" });
    const route = uniqueName("r");
    expect(
      (
        await admin("PUT", `/routes/${route}`, {
          destinations: [{ provider: broken, model: "m" }],
          fallbacks: [{ provider, model: "m" }],
        })
      ).status,
    ).toBe(200);
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model: route, messages: userMessage() }),
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await settled();
    const r = only(w.sent);
    expect(r).toMatchObject({ route, provider, model: "m", attempts: 2, status: 200, outcome: "complete" });
  });

  it("count_tokens forwarded to an Anthropic provider: logged once, with no tokens", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall(anthropicFormat());
    const { res, settled } = await w.fetch(
      "/v1/messages/count_tokens",
      messagesInit(key, { model, messages: userMessage("count") }),
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await settled();
    expect(only(w.sent)).toMatchObject({
      requestType: "count_tokens",
      status: 200,
      outcome: "complete",
      inputTokens: 0,
      outputTokens: 0,
    });
  });

  it("calls that never reach an upstream are not logged", async () => {
    const w = observedWorker();
    const { key, provider } = await setupCall();
    const cases: Array<[Json, number]> = [
      [{ model: "no-such-provider/m", messages: userMessage() }, 404],
      // (A body the upstream would refuse, such as messages that are not a list, does reach it on
      // passthrough: the gateway forwards what it does not read. A missing model never leaves.)
      [{ messages: userMessage() }, 400],
    ];
    for (const [body, status] of cases) {
      const { res, settled } = await w.fetch("/v1/chat/completions", chatInit(key, body));
      expect(res.status).toBe(status);
      await res.arrayBuffer();
      await settled();
    }
    const limited = await createKey({ name: "limited", limits: { rpm: 1 } });
    for (const status of [200, 429]) {
      const { res, settled } = await w.fetch(
        "/v1/chat/completions",
        chatInit(limited.key, { model: `${provider}/m`, messages: userMessage() }),
      );
      expect(res.status).toBe(status);
      await res.arrayBuffer();
      await settled();
    }
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]?.keyId).toBe(limited.id);
  });
});

describe("bodies in the call log", () => {
  it("are left out unless the key or its team asks", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage() }),
    );
    await res.arrayBuffer();
    await settled();
    expect(only(w.sent)).not.toHaveProperty("requestBody");
    expect(only(w.sent)).not.toHaveProperty("responseBody");
  });

  it("a key with logBodies: request and answer kept, with the virtual key and tokens redacted", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall({}, { logBodies: true });
    const pat = `dapi${"ab".repeat(16)}`;
    const prompt = `my key is ${key} and my token ${pat}`;
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage(prompt) }),
    );
    const answer = await res.text();
    // The emulator repeats the prompt, so the answer holds both secrets too.
    expect(answer).toContain(key);
    await settled();
    const r = only(w.sent);
    expect(r.requestBody).toContain("my key is [redacted] and my token [redacted]");
    expect(r.responseBody).toContain("You said: my key is [redacted]");
    expect(JSON.stringify(r)).not.toContain(key);
    expect(JSON.stringify(r)).not.toContain(pat);
    expect(r.bodiesTruncated).toBe(false);
  });

  it("a team with logBodies: a streamed answer is kept as the client got it, capped", async () => {
    const w = observedWorker();
    const team = uniqueName("t");
    expect((await admin("PUT", `/teams/${team}`, { logBodies: true })).status).toBe(200);
    const { key, model } = await setupCall({}, { team });
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(
        key,
        { model, messages: userMessage(), stream: true },
        { "x-emulator-fault": "chunks=50;chunk_bytes=1000" },
      ),
    );
    const streamed = await res.text();
    await settled();
    const r = only(w.sent);
    expect(r.bodiesTruncated).toBe(true);
    expect(new TextEncoder().encode(r.responseBody ?? "").length).toBe(32 * 1024);
    expect(streamed.startsWith(r.responseBody ?? "-")).toBe(true);
  });

  it("logBodies: a record fits one Queue message however much its bodies grow when escaped", async () => {
    const w = observedWorker();
    const { key, model } = await setupCall({}, { logBodies: true });
    // Backslashes: each takes two bytes in the request's JSON, and those two take four in the record's;
    // the emulator repeats the prompt, so the answer holds as many. Both bodies reach the 32 KiB cap.
    const prompt = "\\".repeat(20_000);
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage(prompt) }),
    );
    expect(res.status).toBe(200);
    await res.text();
    await settled();
    const r = only(w.sent);
    expect(r.bodiesTruncated).toBe(true);
    // What the Queue counts: the message's JSON (one record alone), under its 128 KB.
    expect(new TextEncoder().encode(JSON.stringify([r])).length).toBeLessThanOrEqual(128_000);
    // What is kept still begins both bodies, and each keeps a fair share of the room.
    expect(r.requestBody?.length).toBeGreaterThan(20_000);
    expect(r.responseBody).toContain("\\\\");
    expect(r.responseBody?.length).toBeGreaterThan(20_000);
  });
});

describe("the call log, stored", () => {
  it("a call goes through the queue consumer into D1 and R2 exactly once, also when delivered twice", async () => {
    const w = observedWorker();
    const { id, key, model } = await setupCall();
    const { res, settled } = await w.fetch(
      "/v1/chat/completions",
      chatInit(key, { model, messages: userMessage(), stream: true }),
    );
    await res.text();
    await settled();
    const record = only(w.sent);

    expect(w.messages).toEqual([[record]]);
    const ids = [`m-${record.id}`];
    const first = await deliver(w.messages, { ids });
    expect(first.result.explicitAcks).toEqual(ids);
    expect(first.result.retryMessages).toEqual([]);
    // The Queue may deliver a batch again (at-least-once): nothing doubles.
    await deliver(w.messages, { ids, attempts: 2 });

    const listed = await adminCalls({ key: id });
    expect(listed.status).toBe(200);
    expect(listed.json.data).toHaveLength(1);
    expect(listed.json.data[0]).toMatchObject({
      id: record.id,
      requestId: record.requestId,
      keyId: id,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      costUsd: record.costUsd,
      durationMs: record.durationMs,
      status: 200,
      outcome: "complete",
    });

    const hour = record.time.slice(11, 13);
    const listing = await env.CALL_ARCHIVE.list({
      prefix: `calls/date=${record.time.slice(0, 10)}/hour=${hour}/`,
    });
    const objects = await Promise.all(
      listing.objects.map((o) => env.CALL_ARCHIVE.get(o.key).then((b) => b?.text())),
    );
    const lines = objects
      .flatMap((text) => (text ?? "").split("\n"))
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as CallRecord)
      .filter((r) => r.id === record.id);
    expect(lines).toEqual([record]);
  });
});
