import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack } from "../../tools/lib/stack.mjs";

/**
 * The rest of the OpenAI surface with the real openai SDK against `wrangler dev` and the emulator:
 * models.list (with Unity Catalog), embeddings (base64 by default, and float), text completions, and the
 * Responses API (create, and stream().finalResponse() with a tool-call round trip), against an
 * openai-format and an anthropic-format provider.
 */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
let client: OpenAI;
const PAT = "dapi-e2e-surface-pat";

const PROVIDERS = [
  { name: "unified", format: "openai", path: "/mlflow" },
  { name: "native", format: "anthropic", path: "/anthropic" },
] as const;

const UC_MODELS = [
  "databricks-claude-sonnet-4",
  "databricks-claude-3-7-sonnet",
  "databricks-meta-llama-3-3-70b-instruct",
  "databricks-llama-4-maverick",
  "databricks-gpt-oss-120b",
  "databricks-gte-large-en",
  "databricks-bge-large-en",
  "databricks-claude-sonnet-4-5",
];

const weather: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

beforeAll(async () => {
  stack = await startStack({ pat: PAT });
  for (const p of PROVIDERS) {
    const put = await stack.admin("PUT", `/admin/providers/${p.name}`, {
      format: p.format,
      baseUrl: `${stack.emulator.url}${p.path}`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
      ...(p.format === "openai"
        ? { listModelsUrl: `${stack.emulator.url}/api/2.1/unity-catalog/models`, models: ["my-finetune"] }
        : { models: ["databricks-claude-sonnet-4"] }),
    });
    expect(put.status).toBe(200);
  }
  key = ((await stack.admin("POST", "/admin/keys", { name: "e2e-surface" })).json as { key: string }).key;
  client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: key, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

describe("models.list", () => {
  it("shows static models and every Unity Catalog model as <provider>/<name>", async () => {
    stack.emulator.clearRequests();
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model.object).toBe("model");
      ids.push(model.id);
    }
    expect(ids).toEqual([
      "native/databricks-claude-sonnet-4",
      "unified/my-finetune",
      ...UC_MODELS.map((m) => `unified/${m}`),
    ]);
    const uc = stack.emulator.requests.filter((r) => r.path === "/api/2.1/unity-catalog/models");
    expect(uc).toHaveLength(4);
    for (const r of uc) expect(r.headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it("models.retrieve finds one by its id", async () => {
    const model = await client.models.retrieve("unified/databricks-gpt-oss-120b");
    expect(model).toMatchObject({
      id: "unified/databricks-gpt-oss-120b",
      object: "model",
      owned_by: "unified",
    });
    await expect(client.models.retrieve("unified/nope")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("embeddings.create", () => {
  const model = "unified/databricks-gte-large-en";

  it("default (the SDK asks base64 and decodes it) equals float, to float32 precision", async () => {
    const base64 = await client.embeddings.create({ model, input: ["alpha", "beta"], dimensions: 12 });
    const float = await client.embeddings.create({
      model,
      input: ["alpha", "beta"],
      dimensions: 12,
      encoding_format: "float",
    });
    expect(base64.data).toHaveLength(2);
    for (const [i, item] of base64.data.entries()) {
      expect(item.embedding).toHaveLength(12);
      expect(item.embedding).toEqual((float.data[i]?.embedding ?? []).map((v) => Math.fround(v)));
    }
    expect(Math.hypot(...(float.data[0]?.embedding ?? []))).toBeCloseTo(1, 6);
    expect(base64.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("an anthropic provider is a 400 (no such API)", async () => {
    await expect(client.embeddings.create({ model: "native/m", input: "x" })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
  });
});

describe.each(PROVIDERS)("completions.create → $format provider", (p) => {
  const model = `${p.name}/databricks-claude-sonnet-4`;

  it("not streamed", async () => {
    const res = await client.completions.create({ model, prompt: "Say hi", max_tokens: 100 });
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]?.text).toBe("Hello from the emulator. You said: Say hi");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streamed", async () => {
    const stream = await client.completions.create({ model, prompt: "Stream hi", stream: true });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe("Hello from the emulator. You said: Stream hi");
    expect(finish).toBe("stop");
  });
});

describe.each(PROVIDERS)("responses → $format provider", (p) => {
  const model = `${p.name}/databricks-claude-sonnet-4`;

  it("responses.create", async () => {
    const res = await client.responses.create({ model, instructions: "Be terse.", input: "ping" });
    expect(res.status).toBe("completed");
    expect(res.output_text).toBe("Hello from the emulator. You said: ping");
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("responses.stream().finalResponse() with a tool call, then the round trip", async () => {
    const input: OpenAI.Responses.ResponseInput = [
      { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
    ];
    const argDeltas: string[] = [];
    const stream = client.responses.stream({ model, input, tools: [weather] });
    stream.on("response.function_call_arguments.delta", (e) => argDeltas.push(e.delta));
    const first = await stream.finalResponse();
    expect(first.status).toBe("completed");
    const call = first.output.find((o) => o.type === "function_call");
    if (call?.type !== "function_call") throw new Error("expected a function call");
    expect(call.name).toBe("get_weather");
    expect(JSON.parse(call.arguments)).toEqual({ city: "emulated" });
    expect(argDeltas.length).toBeGreaterThan(1);
    expect(argDeltas.join("")).toBe(call.arguments);
    expect(first.usage?.output_tokens).toBeGreaterThan(0);

    // Stateless round trip, as Codex CLI does it: the call and its output go back as input items.
    const second = await client.responses
      .stream({
        model,
        tools: [weather],
        input: [
          ...input,
          { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: "function_call_output", call_id: call.call_id, output: "18°C and sunny" },
        ],
      })
      .finalResponse();
    expect(second.output_text).toBe("Hello from the emulator. The tool returned: 18°C and sunny");
  });

  it("a cut upstream stream makes the SDK throw", async () => {
    const stream = client.responses.stream(
      { model, input: "cut me" },
      { headers: { "x-emulator-fault": "cut_after=4" } },
    );
    await expect(stream.finalResponse()).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it("previous_response_id is a clear 400", async () => {
    const err = await client.responses
      .create({ model, input: "x", previous_response_id: "resp_abc" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/previous_response_id/);
  });
});
