import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack } from "../../tools/lib/stack.mjs";

/**
 * The real openai SDK against `wrangler dev` (local KV and Durable Objects) and the Databricks emulator,
 * all on loopback.
 */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
let client: OpenAI;
const PAT = "dapi-e2e-pat";
const MODEL = "databricks/databricks-claude-sonnet-4";

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" } },
      required: ["city"],
    },
  },
};

beforeAll(async () => {
  stack = await startStack({ pat: PAT });
  const put = await stack.admin("PUT", "/admin/providers/databricks", {
    format: "openai",
    baseUrl: `${stack.emulator.url}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  });
  expect(put.status).toBe(200);
  const created = await stack.admin("POST", "/admin/keys", { name: "e2e" });
  expect(created.status).toBe(201);
  key = (created.json as { key: string }).key;
  client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

describe("openai SDK through the gateway", () => {
  it("chat.completions.create", async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "ping" }],
    });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]?.message.content).toContain("ping");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams with for await, without a usage chunk it did not ask for", async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
    });
    let text = "";
    let chunks = 0;
    let sawEmptyChoices = false;
    for await (const chunk of stream) {
      chunks += 1;
      if (chunk.choices.length === 0) sawEmptyChoices = true;
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toContain("stream please");
    expect(sawEmptyChoices).toBe(false);
  });

  it("streams with stream_options.include_usage", async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "count me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("assembles streamed tool calls with chat.completions.stream().finalChatCompletion()", async () => {
    const final = await client.chat.completions
      .stream(
        { model: MODEL, messages: [{ role: "user", content: "weather in Paris?" }], tools: [weather] },
        { headers: { "x-emulator-fault": "tool_calls=2" } },
      )
      .finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const calls = choice?.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      if (call.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe("get_weather");
      expect(JSON.parse(call.function.arguments)).toEqual({ city: "emulated", days: 42 });
    }
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
  });

  it("a client that stops reading and hangs up ends the upstream call, which is logged as cancelled", async () => {
    const marker = crypto.randomUUID();
    const logged = stack.gateway.nextLine((line) => line.includes('"msg":"call"') && line.includes(marker));
    // 2,000 chunks 20 ms apart: forty seconds of stream, past the test's timeout, unless the hang-up is seen.
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: "user", content: "a long story" }], stream: true },
      {
        headers: {
          "x-request-id": marker,
          "x-trace": marker,
          "x-emulator-fault": "chunks=2000;chunk_delay_ms=20",
        },
      },
    );
    // Leaving the loop aborts the SDK's request: its connection to the gateway closes over real TCP.
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      break;
    }
    const query = new URLSearchParams({ header: "x-trace", value: marker, until: "closed" });
    const closed = await fetch(`${stack.emulator.url}/__emulator/wait?${query}`);
    expect(closed.status).toBe(200);
    const line = JSON.parse((await logged).slice((await logged).indexOf("{"))) as Record<string, unknown>;
    expect(line["bricklane.outcome"]).toBe("client_cancelled");
    expect(line["http.response.status_code"]).toBe(200);
  });

  it("sends the PAT upstream and never the virtual key", async () => {
    stack.emulator.clearRequests();
    await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "who am i" }] });
    const seen = stack.emulator.requests;
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.headers.authorization).toBe(`Bearer ${PAT}`);
      expect(JSON.stringify(r)).not.toContain(key);
    }
  });
});

describe("typed SDK errors", () => {
  it("AuthenticationError for an unknown key", async () => {
    const bad = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: "bl-wrong", maxRetries: 0 });
    await expect(
      bad.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("AuthenticationError for a revoked key, at once", async () => {
    const created = await stack.admin("POST", "/admin/keys", { name: "to-revoke" });
    const { id, key: revoked } = created.json as { id: string; key: string };
    const c = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: revoked, maxRetries: 0 });
    await c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] });
    expect((await stack.admin("DELETE", `/admin/keys/${id}`)).status).toBe(200);
    await expect(
      c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("PermissionDeniedError for a model outside the key's allowlist", async () => {
    const created = await stack.admin("POST", "/admin/keys", {
      name: "narrow",
      models: ["databricks/only-this"],
    });
    const c = new OpenAI({
      baseURL: `${stack.gateway.url}/v1`,
      apiKey: (created.json as { key: string }).key,
      maxRetries: 0,
    });
    await expect(
      c.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("NotFoundError for an unknown provider", async () => {
    await expect(
      client.chat.completions.create({ model: "nowhere/m", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("BadRequestError naming the field for a mistyped request", async () => {
    const err = await client.chat.completions
      .create({ model: MODEL, messages: "not a list" as unknown as [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("messages");
  });

  it("RateLimitError with retry-after when the upstream says 429", async () => {
    const err = await client.chat.completions
      .create(
        { model: MODEL, messages: [{ role: "user", content: "x" }] },
        { headers: { "x-emulator-fault": "status=429;retry_after=9" } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe("9");
  });

  it("InternalServerError (502) when the upstream fails, with the request id", async () => {
    const err = await client.chat.completions
      .create(
        { model: MODEL, messages: [{ role: "user", content: "x" }] },
        { headers: { "x-emulator-fault": "status=500" } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const apiErr = err as InstanceType<typeof OpenAI.InternalServerError>;
    expect(apiErr.status).toBe(502);
    expect(apiErr.headers?.get("x-request-id")).toBeTruthy();
  });

  it("a stream cut by the upstream makes the SDK throw instead of ending cleanly", async () => {
    const stream = await client.chat.completions.create(
      { model: MODEL, messages: [{ role: "user", content: "x" }], stream: true },
      { headers: { "x-emulator-fault": "cut_after=2" } },
    );
    let text = "";
    const consume = async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    };
    await expect(consume()).rejects.toThrow(/ended before the response was complete/);
    // What arrived before the cut was delivered first.
    expect(text.length).toBeGreaterThan(0);
  });
});
