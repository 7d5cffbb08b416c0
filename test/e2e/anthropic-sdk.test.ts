import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack } from "../../tools/lib/stack.mjs";

/**
 * Every client format × provider format through the gateway, with the real SDKs: the Anthropic SDK and the
 * openai SDK, each against an anthropic-format and an openai-format provider (tools/emulator), streamed and
 * not, with tools.
 */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
let anthropic: Anthropic;
let openai: OpenAI;
const PAT = "dapi-e2e-pat";

const PROVIDERS = [
  { name: "native", format: "anthropic", path: "/anthropic" },
  { name: "unified", format: "openai", path: "/mlflow" },
] as const;

const antTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const oaiTool: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", parameters: antTool.input_schema as Record<string, unknown> },
};

beforeAll(async () => {
  stack = await startStack({ pat: PAT });
  for (const p of PROVIDERS) {
    const put = await stack.admin("PUT", `/admin/providers/${p.name}`, {
      format: p.format,
      baseUrl: `${stack.emulator.url}${p.path}`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    });
    expect(put.status).toBe(200);
  }
  key = ((await stack.admin("POST", "/admin/keys", { name: "e2e-ant" })).json as { key: string }).key;
  // authToken → `Authorization: Bearer`, as Claude Code's ANTHROPIC_AUTH_TOKEN does.
  anthropic = new Anthropic({ baseURL: stack.gateway.url, authToken: key, apiKey: null, maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

describe.each(PROVIDERS)("Anthropic SDK → $format provider", (p) => {
  const model = `${p.name}/databricks-claude-sonnet-4`;

  it("messages.create", async () => {
    const msg = await anthropic.messages.create({
      model,
      max_tokens: 200,
      system: "You are terse.",
      messages: [{ role: "user", content: "hello from the anthropic sdk" }],
    });
    expect(msg.type).toBe("message");
    expect(msg.stop_reason).toBe("end_turn");
    const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(text).toContain("hello from the anthropic sdk");
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
  });

  it("messages.stream().finalMessage()", async () => {
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 200,
      messages: [{ role: "user", content: "stream to me" }],
    });
    let deltas = "";
    stream.on("text", (t) => (deltas += t));
    const msg = await stream.finalMessage();
    const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(text).toContain("stream to me");
    expect(deltas).toBe(text);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
  });

  it("a tool-use round trip, streamed, with two tool calls in one turn", async () => {
    const first = await anthropic.messages
      .stream(
        {
          model,
          max_tokens: 300,
          tools: [antTool],
          messages: [{ role: "user", content: "weather in Paris and Rome?" }],
        },
        { headers: { "x-emulator-fault": "tool_calls=2" } },
      )
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses).toHaveLength(2);
    for (const use of uses) {
      expect(use.name).toBe("get_weather");
      expect(use.input).toEqual({ city: "emulated" });
    }

    const second = await anthropic.messages.create({
      model,
      max_tokens: 300,
      tools: [antTool],
      messages: [
        { role: "user", content: "weather in Paris and Rome?" },
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            ...uses.map((u) => ({
              type: "tool_result" as const,
              tool_use_id: u.id,
              content: `sunny at ${u.id}`,
            })),
            { type: "text" as const, text: "and summarise" },
          ],
        },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    const text = second.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(text).toContain("sunny");
  });

  it("countTokens", async () => {
    const count = await anthropic.messages.countTokens({
      model,
      messages: [{ role: "user", content: "how many tokens is this sentence?" }],
    });
    expect(count.input_tokens).toBeGreaterThan(0);
  });

  it("typed errors: AuthenticationError, NotFoundError, RateLimitError", async () => {
    const bad = new Anthropic({ baseURL: stack.gateway.url, apiKey: "bl-wrong", maxRetries: 0 });
    await expect(
      bad.messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      anthropic.messages.create({
        model: "nowhere/m",
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(
      anthropic.messages.create(
        { model, max_tokens: 10, messages: [{ role: "user", content: "x" }] },
        { headers: { "x-emulator-fault": "status=429;retry_after=2" } },
      ),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("a stream cut by the upstream makes the SDK throw", async () => {
    const stream = anthropic.messages.stream(
      { model, max_tokens: 200, messages: [{ role: "user", content: "x" }] },
      { headers: { "x-emulator-fault": "cut_after=3" } },
    );
    await expect(stream.finalMessage()).rejects.toThrow();
  });
});

describe.each(PROVIDERS)("openai SDK → $format provider", (p) => {
  const model = `${p.name}/databricks-claude-sonnet-4`;

  it("chat.completions.create", async () => {
    const res = await openai.chat.completions.create({
      model,
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello from openai" },
      ],
    });
    expect(res.choices[0]?.message.content).toContain("hello from openai");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("streams with usage", async () => {
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "stream it" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain("stream it");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("tool calls through chat.completions.stream().finalChatCompletion(), then the tool result", async () => {
    const first = await openai.chat.completions
      .stream(
        { model, messages: [{ role: "user", content: "weather?" }], tools: [oaiTool] },
        { headers: { "x-emulator-fault": "tool_calls=2" } },
      )
      .finalChatCompletion();
    const message = first.choices[0]?.message;
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    const calls = message?.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      if (call.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe("get_weather");
      expect(JSON.parse(call.function.arguments)).toEqual({ city: "emulated" });
    }
    const second = await openai.chat.completions.create({
      model,
      tools: [oaiTool],
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: null, tool_calls: calls },
        ...calls.map((c) => ({ role: "tool" as const, tool_call_id: c.id, content: `rainy for ${c.id}` })),
      ],
    });
    expect(second.choices[0]?.message.content).toContain("rainy");
  });
});

describe("a route through the SDKs", () => {
  it("falls back from a failing native destination to the unified one, streamed, for Claude-style clients", async () => {
    const failing = await stack.admin("PUT", "/admin/providers/native-down", {
      format: "anthropic",
      baseUrl: `${stack.emulator.url}/anthropic`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
      headers: { "x-emulator-fault": "status=529" },
    });
    expect(failing.status).toBe(200);
    const route = await stack.admin("PUT", "/admin/routes/claude", {
      destinations: [{ provider: "native-down", model: "databricks-claude-sonnet-4" }],
      fallbacks: [{ provider: "unified", model: "databricks-claude-sonnet-4" }],
    });
    expect(route.status).toBe(200);

    const { data, response } = await anthropic.messages
      .create({
        model: "claude",
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: "route me" }],
      })
      .withResponse();
    expect(response.headers.get("x-bricklane-provider")).toBe("unified");
    expect(response.headers.get("x-bricklane-attempts")).toBe("2");
    let text = "";
    for await (const event of data) {
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    }
    expect(text).toContain("route me");

    const viaOpenAi = await openai.chat.completions
      .create({ model: "claude", messages: [{ role: "user", content: "route me too" }] })
      .withResponse();
    expect(viaOpenAi.response.headers.get("x-bricklane-provider")).toBe("unified");
    expect(viaOpenAi.data.choices[0]?.message.content).toContain("route me too");
  });
});
