import { describe, expect, it } from "vitest";
import { checkResponsesStream } from "../unit/responses/helpers";
import {
  admin,
  anthropicFormat,
  chat,
  chatSettled,
  createKey,
  emulatorRequests,
  putProvider,
  setup,
  uniqueName,
  type Json,
} from "./helpers";

/** POST /v1/responses onto both provider formats, streamed and not, with tools and failure paths. */

const respond = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  chat(key, body, headers, "/v1/responses");

const weather = {
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } },
};

const FORMATS = [
  ["openai", () => ({}), "/mlflow/v1/chat/completions"],
  ["anthropic", anthropicFormat, "/anthropic/v1/messages"],
] as const;

async function upstream(marker: string) {
  return (await emulatorRequests()).filter((r) => JSON.stringify(r.body).includes(marker)).at(-1);
}

type ResponseJson = {
  id: string;
  object: string;
  status: string;
  output: Json[];
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  error?: unknown;
};

describe.each(FORMATS)("POST /v1/responses to an %s provider", (_fmt, overrides, path) => {
  it("answers a response object (not streamed) and sends instructions + input upstream", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("hi");
    const res = await respond(key, { model: `${provider}/m`, instructions: "Be brief.", input: marker });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as ResponseJson;
    expect(body).toMatchObject({ object: "response", status: "completed", instructions: "Be brief." });
    expect(body.id).toMatch(/^resp_/);
    expect(body.output).toEqual([
      expect.objectContaining({
        type: "message",
        role: "assistant",
        content: [
          expect.objectContaining({
            type: "output_text",
            text: `Hello from the emulator. You said: ${marker}`,
          }),
        ],
      }),
    ]);
    expect(body.usage.total_tokens).toBe(body.usage.input_tokens + body.usage.output_tokens);
    expect(body.usage.input_tokens).toBeGreaterThan(0);
    const seen = await upstream(marker);
    expect(seen?.path).toBe(path);
    expect(JSON.stringify(seen?.body)).toContain("Be brief.");
  });

  it("streams a tool call as function_call items with argument deltas, then a round trip answers text", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("weather");
    const res = await respond(
      key,
      { model: `${provider}/m`, input: marker, tools: [weather], stream: true },
      { "x-emulator-fault": "tool_calls=2" },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const s = checkResponsesStream(await res.text());
    expect(s.violations).toEqual([]);
    expect(s.terminal?.type).toBe("response.completed");
    expect(s.types).toContain("response.function_call_arguments.delta");
    const calls = s.items.filter((i) => i.type === "function_call");
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.name).toBe("get_weather");
      expect(JSON.parse(String(call.arguments))).toEqual({ city: "emulated", days: 42 });
    }
    // Tools went upstream in the provider's own shape.
    const sent = JSON.stringify((await upstream(marker))?.body);
    expect(sent).toContain(_fmt === "anthropic" ? '"input_schema"' : '"function":{"name":"get_weather"');

    // Second turn: the calls and their outputs come back as input items (stateless, as Codex sends them).
    const second = await respond(key, {
      model: `${provider}/m`,
      tools: [weather],
      stream: true,
      input: [
        { role: "user", content: [{ type: "input_text", text: marker }] },
        ...calls.map((c) => ({
          type: "function_call",
          call_id: c.call_id,
          name: c.name,
          arguments: c.arguments,
        })),
        ...calls.map((c, i) => ({ type: "function_call_output", call_id: c.call_id, output: `sunny ${i}` })),
      ],
    });
    const s2 = checkResponsesStream(await second.text());
    expect(s2.violations).toEqual([]);
    expect(Object.values(s2.text).join("")).toBe(
      "Hello from the emulator. The tool returned: sunny 0 sunny 1",
    );
  });

  it("a cut upstream stream ends in response.failed + error, never a clean end", async () => {
    const { key, provider } = await setup(overrides());
    for (const fault of ["cut_after=4", "error_after=4"]) {
      const res = await respond(
        key,
        { model: `${provider}/m`, input: "x", stream: true },
        { "x-emulator-fault": fault },
      );
      expect(res.status).toBe(200);
      const s = checkResponsesStream(await res.text());
      expect(s.violations).toEqual([]);
      expect(s.types.slice(-2)).toEqual(["response.failed", "error"]);
      expect(s.types).not.toContain("response.completed");
    }
  });

  it("maps upstream 500 → 502 and 429 → 429 with retry-after, streamed or not", async () => {
    const { key, provider } = await setup(overrides());
    for (const stream of [false, true]) {
      const body = { model: `${provider}/m`, input: "x", stream };
      const failed = await respond(key, body, { "x-emulator-fault": "status=500" });
      expect(failed.status).toBe(502);
      expect(((await failed.json()) as { error: { message: string } }).error.message).toContain(provider);
      const limited = await respond(key, body, { "x-emulator-fault": "status=429;retry_after=4" });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("4");
    }
  });

  it("max_output_tokens cut → status incomplete (max_output_tokens)", async () => {
    const { key, provider } = await setup(overrides());
    const body = (await (
      await respond(key, { model: `${provider}/m`, input: "a long question", max_output_tokens: 2 })
    ).json()) as ResponseJson & { incomplete_details: unknown };
    expect(body.status).toBe("incomplete");
    expect(body.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });
});

const applyPatch = {
  type: "custom",
  name: "apply_patch",
  description: "Edit files",
  format: { type: "grammar", syntax: "lark", definition: "start: /(.|\\n)+/" },
};

describe.each(FORMATS)("POST /v1/responses to an %s provider: Codex's tools", (format, overrides) => {
  it("a freeform (custom) tool: offered as a function, its call streamed back as a custom_tool_call, then a round trip", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("patch");
    const res = await respond(key, {
      model: `${provider}/m`,
      input: marker,
      tools: [weather, applyPatch],
      tool_choice: { type: "custom", name: "apply_patch" },
      stream: true,
    });
    expect(res.status).toBe(200);
    const s = checkResponsesStream(await res.text());
    expect(s.violations).toEqual([]);
    // The emulator fills a string parameter with "emulated": the tool's input.
    expect(s.items).toEqual([
      expect.objectContaining({ type: "custom_tool_call", name: "apply_patch", input: "emulated" }),
    ]);
    expect(s.types).toContain("response.custom_tool_call_input.done");
    expect(s.types).not.toContain("response.function_call_arguments.delta");
    const sent = (await upstream(marker))?.body as Record<string, unknown>;
    const offered = JSON.stringify(sent.tools);
    expect(offered).toContain("This tool takes freeform text");
    expect(offered).toContain("start: /(.|\\\\n)+/");

    const call = s.items[0] ?? {};
    const second = await respond(key, {
      model: `${provider}/m`,
      tools: [weather, applyPatch],
      input: [
        { role: "user", content: marker },
        { type: "custom_tool_call", call_id: call.call_id, name: "apply_patch", input: "*** Begin Patch" },
        { type: "custom_tool_call_output", call_id: call.call_id, output: "patched" },
      ],
    });
    expect(second.status).toBe(200);
    const body = (await second.json()) as ResponseJson;
    expect(body.output[0]).toMatchObject({
      type: "message",
      content: [expect.objectContaining({ text: "Hello from the emulator. The tool returned: patched" })],
    });
    const replayed = JSON.stringify((await upstream("patched"))?.body);
    expect(replayed).toContain(
      format === "openai" ? '\\"input\\":\\"*** Begin Patch\\"' : '"input":"*** Begin Patch"',
    );
  });

  it("a non-streamed call to a namespaced tool is reported with its namespace", async () => {
    const { key, provider } = await setup(overrides());
    const res = await respond(key, {
      model: `${provider}/m`,
      input: "spawn one",
      tools: [
        weather,
        {
          type: "namespace",
          name: "agents",
          description: "Sub-agents",
          tools: [{ ...weather, name: "spawn" }],
        },
      ],
      tool_choice: { type: "function", name: "spawn", namespace: "agents" },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResponseJson;
    expect(body.output).toEqual([
      expect.objectContaining({ type: "function_call", name: "spawn", namespace: "agents" }),
    ]);
  });

  it("hosted tools and unreadable history items are left out and named in x-bricklane-dropped", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("hosted");
    const res = await respond(key, {
      model: `${provider}/m`,
      input: [
        { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "q" } },
        {
          role: "user",
          content: [
            { type: "input_text", text: marker },
            { type: "input_audio", data: "x" },
          ],
        },
      ],
      tools: [{ type: "web_search", external_web_access: true }, { type: "image_generation" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-dropped")).toBe(
      "web_search, image_generation, input:web_search_call, content:input_audio",
    );
    const sent = await upstream(marker);
    expect(JSON.stringify(sent?.body)).not.toMatch(/web_search|image_generation|input_audio/);
  });
});

describe("POST /v1/responses: a warm-up (generate: false)", () => {
  it("is answered by the gateway, streamed or not: completed, no output, nothing upstream", async () => {
    const { key, provider } = await setup();
    const marker = uniqueName("warm");
    const input = [{ type: "message", role: "developer", content: marker }];
    const json = await respond(key, { model: `${provider}/m`, input, generate: false });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ object: "response", status: "completed", output: [] });
    const streamed = await respond(key, { model: `${provider}/m`, input, generate: false, stream: true });
    const s = checkResponsesStream(await streamed.text());
    expect(s.violations).toEqual([]);
    expect(s.types).toEqual(["response.created", "response.in_progress", "response.completed"]);
    expect(await upstream(marker)).toBeUndefined();
    // Still a call of the key: an unknown provider is a 404 as ever.
    expect((await respond(key, { model: "nope/m", input, generate: false })).status).toBe(404);
  });
});

describe("POST /v1/responses: refused requests", () => {
  it("previous_response_id → 400 naming it, before anything goes upstream", async () => {
    const { key, provider } = await setup();
    const marker = uniqueName("prev");
    const res = await respond(key, {
      model: `${provider}/m`,
      input: marker,
      previous_response_id: "resp_123",
    });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { message: string; param: string; type: string } };
    expect(err.error).toMatchObject({ param: "previous_response_id", type: "invalid_request_error" });
    expect(err.error.message).toMatch(/stores no responses/);
    expect(await upstream(marker)).toBeUndefined();
  });

  it("400 naming 'responses' when the provider does not allow them", async () => {
    const { key, provider } = await setup({ requests: ["chat"] });
    const res = await respond(key, { model: `${provider}/m`, input: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /does not allow 'responses'/,
    );
  });

  it.each([
    ["input missing", { model: "p/m" }, "input"],
    ["model missing", { input: "x" }, "model"],
    [
      "an item reference",
      { model: "P/m", input: [{ type: "item_reference", id: "msg_1" }] },
      "input[0].type",
    ],
    [
      "forcing a hosted tool",
      { model: "P/m", input: "x", tools: [{ type: "web_search" }], tool_choice: { type: "web_search" } },
      "tool_choice",
    ],
    [
      "a function call output without call_id",
      { model: "P/m", input: [{ type: "function_call_output", output: "x" }] },
      "input[0].call_id",
    ],
  ])("400 naming the field for %s", async (_n, body, param) => {
    const { key, provider } = await setup();
    const withProvider = JSON.parse(JSON.stringify(body).replace('"P/m"', `"${provider}/m"`)) as Json;
    const res = await respond(key, withProvider);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
  });

  it("400 on malformed JSON; 403 for a provider the key may not use; 401 without a key", async () => {
    const { key, provider } = await setup();
    expect((await respond(key, "{not json")).status).toBe(400);
    const other = uniqueName();
    await putProvider(other);
    const restricted = await createKey({ providers: [other] });
    expect((await respond(restricted.key, { model: `${provider}/m`, input: "x" })).status).toBe(403);
    const res = await chat(null, { model: `${provider}/m`, input: "x" }, {}, "/v1/responses");
    expect(res.status).toBe(401);
  });
});

describe("POST /v1/responses: accounting", () => {
  it.each(FORMATS)(
    "counts the tokens of a streamed response against the key (%s provider)",
    async (_f, overrides) => {
      const provider = uniqueName();
      await putProvider(provider, overrides());
      const { id, key } = await createKey({ limits: { tpm: 100_000 } });
      const { text } = await chatSettled(
        key,
        { model: `${provider}/m`, input: "count these tokens please", stream: true },
        {},
        "/v1/responses",
      );
      const s = checkResponsesStream(text);
      const usage = (s.terminal?.response as ResponseJson).usage;
      expect(usage.total_tokens).toBeGreaterThan(0);
      const live = (await admin("GET", `/keys/${id}`)).json.live as { tokens?: { remaining: number } };
      expect(100_000 - (live.tokens?.remaining ?? 100_000)).toBe(usage.total_tokens);
    },
  );
});
