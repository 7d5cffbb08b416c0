import { describe, expect, it } from "vitest";
import { PAT, anthropicFormat, createKey, emulatorRequests, messages, setup, sseEvents } from "./helpers";

type AnthropicError = { type: string; error: { type: string; message: string } };

async function expectAnthropicError(res: Response, status: number, type: string, message?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get("x-request-id")).toMatch(/\S+/);
  const body = (await res.json()) as AnthropicError;
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  if (message) expect(body.error.message).toMatch(message);
  expect(JSON.stringify(body)).not.toContain(PAT);
  return body;
}

const base = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 256,
  messages: [{ role: "user", content: "hello claude" }],
  ...extra,
});

describe("/v1/messages errors, in Anthropic's shape", () => {
  it("401 authentication_error without a key", async () => {
    await expectAnthropicError(await messages(null, base("p/m")), 401, "authentication_error");
  });

  it("400 invalid_request_error for malformed JSON", async () => {
    const { key } = await setup(anthropicFormat());
    await expectAnthropicError(await messages(key, "{oops"), 400, "invalid_request_error", /not valid JSON/);
  });

  it("400 naming max_tokens when it is missing: the upstream's on passthrough, passed on", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const body = { model: `${provider}/m`, messages: [{ role: "user", content: "x" }] };
    await expectAnthropicError(await messages(key, body), 400, "invalid_request_error", /max_tokens/);
  });

  it("400 naming the role when a translation meets a role it does not know", async () => {
    const { key, provider } = await setup();
    const body = base(`${provider}/m`, { messages: [{ role: "tool", content: "x" }] });
    await expectAnthropicError(
      await messages(key, body),
      400,
      "invalid_request_error",
      /messages\[0\]\.role/,
    );
  });

  it("400 naming model or stream, the fields the gateway itself reads", async () => {
    const { key } = await setup(anthropicFormat());
    await expectAnthropicError(
      await messages(key, { max_tokens: 1, messages: [] }),
      400,
      "invalid_request_error",
      /model/,
    );
    await expectAnthropicError(
      await messages(key, base("p/m", { stream: "yes" })),
      400,
      "invalid_request_error",
      /stream/,
    );
  });

  it("404 not_found_error for an unknown provider", async () => {
    const { key } = await setup();
    await expectAnthropicError(await messages(key, base("nope/m")), 404, "not_found_error");
  });

  it("403 permission_error for a model outside the allowlist", async () => {
    const { provider } = await setup(anthropicFormat());
    const { key } = await createKey({ models: [`${provider}/other`] });
    await expectAnthropicError(await messages(key, base(`${provider}/m`)), 403, "permission_error");
  });

  it("413 request_too_large", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const body = base(`${provider}/m`, { messages: [{ role: "user", content: "z".repeat(70_000) }] });
    await expectAnthropicError(await messages(key, body), 413, "request_too_large");
  });

  it("429 rate_limit_error keeping retry-after", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await messages(key, base(`${provider}/m`), {
      "x-emulator-fault": "status=429;retry_after=4",
    });
    expect(res.headers.get("retry-after")).toBe("4");
    await expectAnthropicError(res, 429, "rate_limit_error");
  });

  it("502 api_error for an upstream 500, and for an upstream 401", async () => {
    const { key, provider } = await setup(anthropicFormat());
    await expectAnthropicError(
      await messages(key, base(`${provider}/m`), { "x-emulator-fault": "status=500" }),
      502,
      "api_error",
    );
    await expectAnthropicError(
      await messages(key, base(`${provider}/m`), { "x-emulator-fault": "status=401" }),
      502,
      "api_error",
      /rejected the gateway's credentials/,
    );
  });

  it("502 overloaded_error for an upstream 529 or 503, so Claude Code sees it as overload", async () => {
    const { key, provider } = await setup(anthropicFormat());
    for (const status of [529, 503]) {
      const res = await messages(key, base(`${provider}/m`), { "x-emulator-fault": `status=${status}` });
      await expectAnthropicError(res, 502, "overloaded_error");
    }
  });

  it("404 in Anthropic's shape for an unknown path under /anthropic", async () => {
    const { key } = await setup();
    await expectAnthropicError(await messages(key, {}, {}, "/anthropic/v1/nothing"), 404, "not_found_error");
  });
});

describe("/v1/messages to an anthropic provider: passthrough", () => {
  it("forwards the body with only model rewritten, plus anthropic-version and anthropic-beta", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const marker = crypto.randomUUID();
    const body = base(`${provider}/databricks-claude-sonnet-4`, {
      system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }],
      unknown_future_field: { keep: true },
    });
    const res = await messages(
      key,
      body,
      { "anthropic-beta": "claude-code-20250219,fine-grained-tool-streaming-2025-05-14", "x-trace": marker },
      "/v1/messages?beta=true",
    );
    expect(res.status).toBe(200);
    const msg = (await res.json()) as {
      type: string;
      content: Array<{ type: string; text: string }>;
      usage: { input_tokens: number };
    };
    expect(msg.type).toBe("message");
    expect(msg.content[0]?.text).toContain("hello claude");

    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(seen?.path).toBe("/anthropic/v1/messages");
    expect(seen?.body).toEqual({ ...body, model: "databricks-claude-sonnet-4" });
    expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen?.headers["anthropic-beta"]).toBe(
      "claude-code-20250219,fine-grained-tool-streaming-2025-05-14",
    );
    expect(seen?.headers.authorization).toBe(`Bearer ${PAT}`);
    expect(seen?.headers["x-api-key"]).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(key);
  });

  it("also answers under /anthropic/v1/messages, with the key as Bearer", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await messages(
      null,
      base(`${provider}/m`),
      { authorization: `Bearer ${key}` },
      "/anthropic/v1/messages",
    );
    expect(res.status).toBe(200);
  });

  it("streams the upstream's events through with both event and data lines", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await messages(key, base(`${provider}/m`, { stream: true }));
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = sseEvents(await res.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("message_start");
    expect(names.at(-1)).toBe("message_stop");
    expect(names).toContain("content_block_delta");
    for (const e of events) expect(e.data.type).toBe(e.event);
  });

  it("ends a cut stream with an Anthropic error event", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await messages(key, base(`${provider}/m`, { stream: true }), {
      "x-emulator-fault": "cut_after=3",
    });
    const events = sseEvents(await res.text());
    const last = events.at(-1);
    expect(last?.event).toBe("error");
    expect((last?.data.error as { type: string }).type).toBe("api_error");
    expect(events.map((e) => e.event)).not.toContain("message_stop");
  });

  it.each([404, 405, 501])(
    "count_tokens to an upstream without it (%i) falls back to the estimate, marked",
    async (status) => {
      const { key, provider } = await setup(anthropicFormat());
      const body = { model: `${provider}/m`, messages: [{ role: "user", content: "y".repeat(800) }] };
      const res = await messages(
        key,
        body,
        { "x-emulator-fault": `status=${status}` },
        "/v1/messages/count_tokens",
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("x-bricklane-estimated")).toBe("true");
      expect(await res.json()).toEqual({ input_tokens: 200 });
    },
  );

  it.each([
    [500, 502, "api_error"],
    [400, 400, "invalid_request_error"],
    [429, 429, "rate_limit_error"],
  ])(
    "count_tokens: an upstream %i is not turned into an estimate (%i %s)",
    async (upstream, status, type) => {
      const { key, provider } = await setup(anthropicFormat());
      const body = { model: `${provider}/m`, messages: [{ role: "user", content: "count" }] };
      const res = await messages(
        key,
        body,
        { "x-emulator-fault": `status=${upstream}` },
        "/v1/messages/count_tokens",
      );
      expect(res.headers.get("x-bricklane-estimated")).toBeNull();
      await expectAnthropicError(res, status, type);
    },
  );

  it("forwards count_tokens", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const body = {
      model: `${provider}/m`,
      messages: [{ role: "user", content: "count these words please" }],
    };
    const res = await messages(key, body, {}, "/v1/messages/count_tokens");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-estimated")).toBeNull();
    const json = (await res.json()) as { input_tokens: number };
    expect(json.input_tokens).toBeGreaterThan(0);
  });
});

describe("/v1/messages to an openai provider: translation", () => {
  it("answers with an Anthropic message", async () => {
    const { key, provider } = await setup();
    const marker = crypto.randomUUID();
    const res = await messages(
      key,
      base(`${provider}/gpt-x`, { system: "sys prompt", stop_sequences: ["END"] }),
      { "x-trace": marker },
    );
    expect(res.status).toBe(200);
    const msg = (await res.json()) as {
      type: string;
      role: string;
      content: Array<{ type: string; text: string }>;
      stop_reason: string;
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(msg).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn" });
    expect(msg.content[0]?.text).toContain("hello claude");
    expect(msg.usage.output_tokens).toBeGreaterThan(0);

    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(seen?.path).toBe("/mlflow/v1/chat/completions");
    expect(seen?.body).toMatchObject({
      model: "gpt-x",
      messages: [{ role: "system", content: "sys prompt" }, { role: "user" }],
      stop: ["END"],
    });
  });

  it("streams a tool call as Anthropic events with consistent block indices", async () => {
    const { key, provider } = await setup();
    const tools = [
      {
        name: "get_weather",
        description: "w",
        input_schema: { type: "object", properties: { city: { type: "string" } } },
      },
    ];
    const res = await messages(key, base(`${provider}/m`, { stream: true, tools }), {
      "x-emulator-fault": "tool_calls=2",
    });
    const events = sseEvents(await res.text());
    expect(events[0]?.event).toBe("message_start");
    expect(events.at(-1)?.event).toBe("message_stop");
    const starts = events.filter((e) => e.event === "content_block_start");
    expect(starts.map((e) => e.data.index)).toEqual(starts.map((_, i) => i));
    const toolBlocks = starts.filter((e) => (e.data.content_block as { type: string }).type === "tool_use");
    expect(toolBlocks).toHaveLength(2);
    for (const block of toolBlocks) {
      const json = events
        .filter((e) => e.event === "content_block_delta" && e.data.index === block.data.index)
        .map((e) => (e.data.delta as { partial_json?: string }).partial_json ?? "")
        .join("");
      expect(JSON.parse(json)).toEqual({ city: "emulated" });
    }
    const delta = events.find((e) => e.event === "message_delta");
    expect((delta?.data.delta as { stop_reason: string }).stop_reason).toBe("tool_use");
    for (const e of events.filter((x) => x.event === "content_block_delta")) {
      const d = e.data.delta as { text?: string; partial_json?: string };
      expect((d.text ?? d.partial_json ?? "").length).toBeGreaterThan(0);
    }
  });

  it("drops server tools and MCP servers, naming them in x-bricklane-dropped; maps the rest", async () => {
    const { key, provider } = await setup();
    const marker = crypto.randomUUID();
    const tools = [
      { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      { type: "web_search_20250305", name: "web_search", max_uses: 2 },
      { type: "bash_20250124", name: "bash" },
    ];
    const body = base(`${provider}/m`, {
      tools,
      mcp_servers: [{ type: "url", url: "https://mcp.example.com/sse", name: "docs" }],
      thinking: { type: "enabled", budget_tokens: 2048 },
    });
    const res = await messages(key, body, { "x-trace": marker });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-dropped")).toBe("mcp_servers, web_search_20250305");
    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    const sent = seen?.body as { tools: { function: { name: string } }[]; reasoning_effort: string };
    expect(sent.tools.map((t) => t.function.name)).toEqual(["get_weather", "bash"]);
    expect(sent.reasoning_effort).toBe("low");
    expect(JSON.stringify(sent)).not.toContain("mcp");
  });

  it("says nothing in x-bricklane-dropped when nothing was dropped", async () => {
    const { key, provider } = await setup();
    const res = await messages(key, base(`${provider}/m`, { context_management: { edits: [] } }));
    expect(res.status).toBe(200);
    expect(res.headers.has("x-bricklane-dropped")).toBe(false);
  });

  it("estimates count_tokens and says so", async () => {
    const { key, provider } = await setup();
    const body = { model: `${provider}/m`, messages: [{ role: "user", content: "x".repeat(400) }] };
    const res = await messages(key, body, {}, "/v1/messages/count_tokens");
    expect(res.headers.get("x-bricklane-estimated")).toBe("true");
    expect(((await res.json()) as { input_tokens: number }).input_tokens).toBe(100);
  });
});
