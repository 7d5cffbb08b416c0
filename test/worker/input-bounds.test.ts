import { beforeAll, describe, expect, it } from "vitest";
import {
  anthropicFormat,
  chat,
  createKey,
  emulatorRequests,
  messages,
  putProvider,
  uniqueName,
  userMessage,
  type Json,
} from "./helpers";

/**
 * What the gateway refuses before it reads deeper: JSON nested past 128 levels, model strings that would
 * break a header, a KV key or a log. Each is a 400 in the route's format naming the field, never a 500.
 */

let key = "";
let openai = "";
let anthropic = "";
beforeAll(async () => {
  openai = uniqueName();
  anthropic = uniqueName();
  await putProvider(openai);
  await putProvider(anthropic, anthropicFormat());
  key = (await createKey()).key;
});

const nested = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

describe("nesting depth", () => {
  it("400 naming the top-level field, on every model route, in the route's format", async () => {
    const cases: Array<[string, (body: string) => Promise<Response>, string]> = [
      ["tools", (b) => chat(key, b), "openai"],
      ["messages", (b) => messages(key, b), "anthropic"],
      ["messages", (b) => messages(key, b, {}, "/v1/messages/count_tokens"), "anthropic"],
      ["input", (b) => chat(key, b, {}, "/v1/responses"), "openai"],
      ["prompt", (b) => chat(key, b, {}, "/v1/completions"), "openai"],
      ["input", (b) => chat(key, b, {}, "/v1/embeddings"), "openai"],
    ];
    for (const [field, send, format] of cases) {
      const body = `{"model":"${openai}/m","max_tokens":5,"messages":[],"${field}":${nested(6000)}}`;
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(res.headers.get("x-request-id")).toBeTruthy();
      const json = (await res.json()) as Json;
      const error = json.error as { message: string; param?: string };
      expect(error.message).toContain(`'${field}' nests deeper than 128 levels`);
      if (format === "openai") expect(error.param).toBe(field);
      else expect(json.type).toBe("error");
    }
  });

  it("takes deep-but-real nesting (a JSON schema of a few dozen levels) through to the upstream", async () => {
    let schema: Json = { type: "string" };
    for (let i = 0; i < 40; i++) schema = { type: "object", properties: { next: schema } };
    const tools = [{ type: "function", function: { name: "f", parameters: schema } }];
    const res = await chat(key, { model: `${openai}/m`, messages: userMessage(), tools });
    expect(res.status).toBe(200);
  });

  it("tool-call arguments nested too deep become {} going to Anthropic, as unparsable ones do", async () => {
    const marker = `deep-${crypto.randomUUID()}`;
    const res = await chat(key, {
      model: `${anthropic}/m`,
      messages: [
        { role: "user", content: marker },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: nested(5000) } }],
        },
        { role: "tool", tool_call_id: "c1", content: "done" },
      ],
    });
    expect(res.status).toBe(200);
    const seen = (await emulatorRequests()).find((r) => JSON.stringify(r.body).includes(marker));
    const assistant = (seen?.body?.messages as Json[])[1] as { content: Json[] };
    expect(assistant.content[0]).toMatchObject({ type: "tool_use", input: {} });
  });
});

describe("model strings", () => {
  it.each([
    ["too long", `${"p".repeat(10)}/${"m".repeat(300)}`],
    ["a provider part too long for a KV key", `${"p".repeat(600)}/m`],
    ["a NUL", "p/m\u0000"],
    ["CR LF", "p/m\r\nx-evil: 1"],
    ["a lone surrogate", "p/\ud800"],
    ["a provider part with odd characters", "p q/m"],
  ])("%s: 400 naming model, on both formats", async (_what, model) => {
    const res = await chat(key, { model, messages: userMessage() });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-bricklane-model")).toBeNull();
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("model");
    const ant = await messages(key, { model, max_tokens: 5, messages: userMessage() });
    expect(ant.status).toBe(400);
    expect(((await ant.json()) as { type: string }).type).toBe("error");
  });

  it("a model name outside ASCII is served, and percent-encoded in x-bricklane-model", async () => {
    const res = await chat(key, { model: `${openai}/modèle`, messages: userMessage() });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-model")).toBe("mod%C3%A8le");
  });
});
