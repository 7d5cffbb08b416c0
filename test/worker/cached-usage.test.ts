import { beforeAll, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/observe/record";
import { observedWorker } from "./call-log-helpers";
import {
  admin,
  anthropicFormat,
  createKey,
  putProvider,
  sseData,
  sseEvents,
  uniqueName,
  type Json,
} from "./helpers";

/**
 * Cached turns, as Claude Code's are: the emulator reports cache reads and writes (and reasoning), and the
 * gateway must count and price them as the provider bills them, in every client format × provider format,
 * JSON and streamed, passthrough and translated, and book that in /admin/usage and the call log.
 */

// A Databricks-served Claude model at Anthropic's list prices (USD per million tokens).
const MODEL = "databricks-claude-sonnet-4-5";
const PRICE = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };

const CACHE_READ = 1000;
const CACHE_WRITE = 100;
const REASONING = 7;
const FAULT = `cache_read=${CACHE_READ};cache_write=${CACHE_WRITE};reasoning=${REASONING}`;

// The emulator's own counts: about four characters a token, of the prompt and of its reply.
const PROMPT = "hi there";
const REPLY = `Hello from the emulator. You said: ${PROMPT}`;
const tokens = (text: string) => Math.ceil(text.length / 4);
const PROMPT_TOKENS = tokens(PROMPT);
const OUTPUT_TOKENS = tokens(REPLY) + REASONING;
const ALL_INPUT = PROMPT_TOKENS + CACHE_WRITE + CACHE_READ;

type UpstreamFormat = "anthropic" | "openai";

/**
 * What the upstream reported, as its format can say it: Anthropic names its cache writes; OpenAI's format
 * has no count of them, so they reach the gateway as uncached input, and it names reasoning instead.
 */
const reported = {
  anthropic: {
    uncached: PROMPT_TOKENS,
    cacheWrite: CACHE_WRITE,
    cacheRead: CACHE_READ,
    output: OUTPUT_TOKENS,
    reasoning: 0,
  },
  openai: {
    uncached: PROMPT_TOKENS + CACHE_WRITE,
    cacheWrite: 0,
    cacheRead: CACHE_READ,
    output: OUTPUT_TOKENS,
    reasoning: REASONING,
  },
} as const;

/** The bill for one call, from the price and the upstream's counts. */
function bill(format: UpstreamFormat, price: typeof PRICE = PRICE): number {
  const r = reported[format];
  return (
    (r.uncached * price.inputPerMTok +
      r.cacheWrite * price.cacheWritePerMTok +
      r.cacheRead * price.cacheReadPerMTok +
      r.output * price.outputPerMTok) /
    1e6
  );
}

const providers: Record<UpstreamFormat, string> = { anthropic: "", openai: "" };

beforeAll(async () => {
  providers.anthropic = uniqueName("ant");
  providers.openai = uniqueName("oai");
  await putProvider(providers.anthropic, { ...anthropicFormat(), pricing: { [MODEL]: PRICE } });
  await putProvider(providers.openai, { pricing: { [MODEL]: PRICE } });
});

type Client = "messages" | "chat" | "responses";

function request(client: Client, key: string, model: string, stream: boolean) {
  const headers: Record<string, string> = { "content-type": "application/json", "x-emulator-fault": FAULT };
  if (client === "messages") {
    return {
      path: "/v1/messages",
      init: {
        method: "POST",
        headers: { ...headers, "x-api-key": key, "anthropic-version": "2023-06-01" },
        body: JSON.stringify({
          model,
          max_tokens: 256,
          messages: [{ role: "user", content: PROMPT }],
          stream,
        }),
      },
    };
  }
  const body =
    client === "chat"
      ? {
          model,
          messages: [{ role: "user", content: PROMPT }],
          stream,
          ...(stream && { stream_options: { include_usage: true } }),
        }
      : { model, input: PROMPT, stream };
  return {
    path: client === "chat" ? "/v1/chat/completions" : "/v1/responses",
    init: {
      method: "POST",
      headers: { ...headers, authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    },
  };
}

/** The usage the client got, in its own format, JSON or streamed. */
function clientUsage(client: Client, stream: boolean, text: string): Json {
  if (!stream) return (JSON.parse(text) as { usage: Json }).usage;
  if (client === "messages") {
    const events = sseEvents(text);
    const start = events.find((e) => e.event === "message_start")?.data.message as { usage: Json };
    const delta = events.find((e) => e.event === "message_delta")?.data.usage as Json;
    return { ...start.usage, ...delta };
  }
  if (client === "chat") {
    const chunks = sseData(text)
      .filter((d) => d !== "[DONE]")
      .map((d) => JSON.parse(d) as { usage?: Json | null });
    const usage = chunks.find((c) => c.usage)?.usage;
    if (!usage) throw new Error("no usage chunk");
    return usage;
  }
  const completed = sseEvents(text).find((e) => e.event === "response.completed");
  return (completed?.data.response as { usage: Json }).usage;
}

/** What the client's format says of the upstream's counts (translation carries the cache reads across). */
function expectedClientUsage(client: Client, upstream: UpstreamFormat): Json {
  const r = reported[upstream];
  if (client === "messages") {
    return {
      input_tokens: r.uncached,
      cache_creation_input_tokens: r.cacheWrite,
      cache_read_input_tokens: r.cacheRead,
      output_tokens: r.output,
    };
  }
  if (client === "chat") {
    return {
      prompt_tokens: ALL_INPUT,
      completion_tokens: r.output,
      total_tokens: ALL_INPUT + r.output,
      prompt_tokens_details: { cached_tokens: r.cacheRead },
      // The reasoning count only where the upstream gave one (Anthropic's thinking has none).
      ...(upstream === "openai" && { completion_tokens_details: { reasoning_tokens: r.reasoning } }),
    };
  }
  return {
    input_tokens: ALL_INPUT,
    input_tokens_details: { cached_tokens: r.cacheRead },
    output_tokens: r.output,
    output_tokens_details: { reasoning_tokens: r.reasoning },
    total_tokens: ALL_INPUT + r.output,
  };
}

type UsageAnswer = { total: Json; data: Json[] };

async function usageOf(query: string): Promise<UsageAnswer> {
  const { status, json } = await admin("GET", `/usage?${query}`);
  expect(status).toBe(200);
  return json as UsageAnswer;
}

const cases = (["messages", "chat", "responses"] as const).flatMap((client) =>
  (["anthropic", "openai"] as const).flatMap((upstream) =>
    [false, true].map((stream) => ({ client, upstream, stream })),
  ),
);

describe("a cached turn is counted and priced as the provider bills it", () => {
  it.each(cases)("$client → $upstream provider, stream: $stream", async ({ client, upstream, stream }) => {
    const w = observedWorker();
    const { id, key } = await createKey({ name: "cached turn" });
    const { path, init } = request(client, key, `${providers[upstream]}/${MODEL}`, stream);
    const { res, settled } = await w.fetch(path, init);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    await settled();

    expect(clientUsage(client, stream, text)).toEqual(expectedClientUsage(client, upstream));

    const r = reported[upstream];
    const breakdown = {
      inputTokens: ALL_INPUT,
      cacheReadTokens: r.cacheRead,
      cacheWriteTokens: r.cacheWrite,
      outputTokens: r.output,
      reasoningTokens: r.reasoning,
    };
    const cost = bill(upstream);

    expect(w.sent).toHaveLength(1);
    const record = w.sent[0] as CallRecord;
    expect(record).toMatchObject({ ...breakdown, tokensEstimated: false, stream });
    expect(record.costUsd).toBeCloseTo(cost, 12);

    const usage = await usageOf(`key=${id}`);
    expect(usage.data).toHaveLength(1);
    expect(usage.data[0]).toMatchObject({ model: MODEL, requests: 1, errors: 0, ...breakdown });
    expect(usage.data[0]?.costUsd).toBeCloseTo(cost, 12);
    expect(usage.total).toMatchObject({ requests: 1, ...breakdown });
    expect(usage.total.costUsd).toBeCloseTo(cost, 12);
  });

  it("books the provider's bill, not four times it: the issue's two calls cost what they cost", async () => {
    const { id, key } = await createKey({ name: "two cached calls" });
    const w = observedWorker();
    for (let i = 0; i < 2; i++) {
      const { path, init } = request("messages", key, `${providers.anthropic}/${MODEL}`, i === 1);
      const { res, settled } = await w.fetch(path, init);
      await res.text();
      await settled();
    }
    const { total } = await usageOf(`key=${id}`);
    expect(total.costUsd).toBeCloseTo(2 * bill("anthropic"), 12);
    // Everything priced as input, as before, would have been several times more.
    const allAsInput = (2 * (ALL_INPUT * PRICE.inputPerMTok + OUTPUT_TOKENS * PRICE.outputPerMTok)) / 1e6;
    expect(allAsInput / Number(total.costUsd)).toBeGreaterThan(3);
  });

  it("adds up the breakdown over rows in the total", async () => {
    const { id, key } = await createKey({ name: "two providers" });
    const w = observedWorker();
    for (const upstream of ["anthropic", "openai"] as const) {
      const { path, init } = request("chat", key, `${providers[upstream]}/${MODEL}`, true);
      const { res, settled } = await w.fetch(path, init);
      await res.text();
      await settled();
    }
    const { data, total } = await usageOf(`key=${id}`);
    expect(data.map((row) => row.provider).sort()).toEqual([providers.anthropic, providers.openai].sort());
    for (const counter of [
      "requests",
      "inputTokens",
      "cacheReadTokens",
      "cacheWriteTokens",
      "outputTokens",
      "reasoningTokens",
      "errors",
    ]) {
      expect(total[counter], counter).toBe(data.reduce((sum, row) => sum + Number(row[counter]), 0));
    }
    expect(total).toMatchObject({ cacheWriteTokens: CACHE_WRITE, reasoningTokens: REASONING });
    expect(total.costUsd).toBeCloseTo(bill("anthropic") + bill("openai"), 12);
  });

  it("prices cached tokens as input where the model's price leaves the cache out", async () => {
    const provider = uniqueName("plain");
    const plain = { inputPerMTok: PRICE.inputPerMTok, outputPerMTok: PRICE.outputPerMTok };
    await putProvider(provider, { ...anthropicFormat(), pricing: { [MODEL]: plain } });
    const { id, key } = await createKey({ name: "plain price" });
    const w = observedWorker();
    const { path, init } = request("messages", key, `${provider}/${MODEL}`, true);
    const { res, settled } = await w.fetch(path, init);
    await res.text();
    await settled();
    const asInput = { ...plain, cacheReadPerMTok: plain.inputPerMTok, cacheWritePerMTok: plain.inputPerMTok };
    const { total } = await usageOf(`key=${id}`);
    expect(total.costUsd).toBeCloseTo(bill("anthropic", asInput), 12);
    expect(w.sent[0]?.costUsd).toBeCloseTo(bill("anthropic", asInput), 12);
  });
});

describe("budgets and tpm on cached traffic", () => {
  /** Streamed cached turns to the Anthropic provider, one after another, each settled; their statuses. */
  async function turns(key: string, n: number): Promise<number[]> {
    const w = observedWorker();
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const { path, init } = request("messages", key, `${providers.anthropic}/${MODEL}`, true);
      const { res, settled } = await w.fetch(path, init);
      await res.text();
      await settled();
      statuses.push(res.status);
    }
    return statuses;
  }

  it("a budget runs out on the call where the real bill crosses it", async () => {
    // Room for three and a half turns: the fourth crosses the budget, the fifth is refused.
    const usd = 3.5 * bill("anthropic");
    const { id, key } = await createKey({ name: "budget", limits: { budget: { usd, period: "day" } } });
    expect(await turns(key, 5)).toEqual([200, 200, 200, 200, 429]);
    const live = (await admin("GET", `/keys/${id}`)).json.live as { budget: { spentUsd: number } };
    expect(live.budget.spentUsd).toBeCloseTo(4 * bill("anthropic"), 12);
  });

  it("tpm leaves cache reads out, as Anthropic's input limits do", async () => {
    const counted = ALL_INPUT - CACHE_READ + OUTPUT_TOKENS;
    const { key } = await createKey({ name: "tpm", limits: { tpm: 3 * counted } });
    expect(await turns(key, 4)).toEqual([200, 200, 200, 429]);
  });

  it("tpm counts cache reads too when the limits say so", async () => {
    const counted = ALL_INPUT - CACHE_READ + OUTPUT_TOKENS;
    const { key } = await createKey({
      name: "tpm with reads",
      limits: { tpm: 3 * counted, tpmCountsCacheReads: true },
    });
    // One turn with its cache reads is already more than three without.
    expect(await turns(key, 2)).toEqual([200, 429]);
  });
});

describe("pricing in the admin API", () => {
  it("warns when a model's price leaves out the cache prices, and not when it has them", async () => {
    const name = uniqueName();
    const without = await admin("PUT", `/providers/${name}`, {
      format: "anthropic",
      baseUrl: "https://example.test/anthropic",
      auth: { type: "none" },
      pricing: { [MODEL]: { inputPerMTok: 3, outputPerMTok: 15 } },
    });
    expect(without.status).toBe(200);
    expect(without.json.warnings).toEqual([expect.stringContaining(`prices '${MODEL}' without`)]);
    const priced = await admin("PUT", `/providers/${name}`, {
      format: "anthropic",
      baseUrl: "https://example.test/anthropic",
      auth: { type: "none" },
      pricing: { [MODEL]: PRICE },
    });
    expect(priced.status).toBe(200);
    expect(priced.json).not.toHaveProperty("warnings");
    expect((await admin("GET", `/providers/${name}`)).json.pricing).toEqual({ [MODEL]: PRICE });
  });

  it("refuses a negative cache price", async () => {
    const r = await admin("PUT", `/providers/${uniqueName()}`, {
      format: "anthropic",
      baseUrl: "https://example.test/anthropic",
      auth: { type: "none" },
      pricing: { [MODEL]: { ...PRICE, cacheReadPerMTok: -1 } },
    });
    expect(r.status).toBe(400);
  });
});
