import { describe, expect, it } from "vitest";
import {
  PAT,
  admin,
  chat,
  createKey,
  emulatorRequests,
  emulatorUrl,
  putProvider,
  setup,
  uniqueName,
  userMessage,
} from "./helpers";

type OpenAiError = { error: { message: string; type: string; param: string | null; code: string } };

async function expectError(res: Response, status: number, message?: RegExp): Promise<OpenAiError> {
  expect(res.status).toBe(status);
  expect(res.headers.get("x-request-id")).toMatch(/\S+/);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  const body = (await res.json()) as OpenAiError;
  expect(body.error.message).toEqual(expect.any(String));
  if (message) expect(body.error.message).toMatch(message);
  // Nothing of the upstream credential ever reaches a client.
  expect(JSON.stringify(body)).not.toContain(PAT);
  return body;
}

describe("request errors", () => {
  it("400 on malformed JSON", async () => {
    const { key } = await setup();
    await expectError(await chat(key, '{"model": "x", '), 400, /not valid JSON/);
  });

  it("400 on a body that is not an object", async () => {
    const { key } = await setup();
    await expectError(await chat(key, "[1,2]"), 400, /JSON object/);
  });

  it.each([
    ["model missing", { messages: userMessage() }, "model"],
    ["model not a string", { model: 42, messages: userMessage() }, "model"],
    ["stream not a boolean", { model: "p/m", messages: userMessage(), stream: "yes" }, "stream"],
    [
      "stream_options not an object",
      { model: "p/m", messages: userMessage(), stream_options: 1 },
      "stream_options",
    ],
  ])("400 naming the field the gateway reads when %s", async (_n, body, param) => {
    const { key } = await setup();
    const err = await expectError(await chat(key, body), 400);
    expect(err.error.param).toBe(param);
    expect(err.error.message).toContain(param);
    expect(err.error.type).toBe("invalid_request_error");
  });

  it.each([
    ["messages not an array", { messages: "hi" }, "messages"],
    ["messages empty", { messages: [] }, "messages"],
    ["a message without role", { messages: [{ content: "x" }] }, "messages[0].role"],
  ])(
    "400 naming the field when %s, where the translation onto Messages reads it",
    async (_n, extra, param) => {
      const { key, provider } = await setup({ format: "anthropic", baseUrl: `${emulatorUrl()}/anthropic` });
      const err = await expectError(await chat(key, { model: `${provider}/m`, ...extra }), 400);
      expect(err.error.param).toBe(param);
      expect(err.error.message).toContain(param);
    },
  );

  it("leaves messages to the upstream on passthrough: forwarded as sent, its 400 passed on", async () => {
    const { key, provider } = await setup();
    const marker = crypto.randomUUID();
    const odd = {
      model: `${provider}/m`,
      messages: [{ content: "no role" }, { role: "critic", content: "x" }],
    };
    expect((await chat(key, odd, { "x-trace": marker })).status).toBe(200);
    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(seen?.body).toEqual({ ...odd, model: "m" });
    await expectError(
      await chat(key, { model: `${provider}/m`, messages: [] }),
      400,
      /messages must be a non-empty array/,
    );
  });

  it("404 for a model that names no provider", async () => {
    const { key } = await setup();
    const err = await expectError(
      await chat(key, { model: "gpt-4o", messages: userMessage() }),
      404,
      /does not exist/,
    );
    expect(err.error.param).toBe("model");
  });

  it("404 for an unknown provider", async () => {
    const { key } = await setup();
    await expectError(
      await chat(key, { model: "nope/m", messages: userMessage() }),
      404,
      /Unknown provider 'nope'/,
    );
  });

  it("403 for a provider the key may not use", async () => {
    const { provider } = await setup();
    const other = uniqueName();
    await putProvider(other);
    const { key } = await createKey({ providers: [other] });
    await expectError(
      await chat(key, { model: `${provider}/m`, messages: userMessage() }),
      403,
      /may not use/,
    );
    expect((await chat(key, { model: `${other}/m`, messages: userMessage() })).status).toBe(200);
  });

  it("403 for a model the key may not use; `<provider>/*` allows all of a provider's models", async () => {
    const { provider } = await setup();
    const { key } = await createKey({ models: [`${provider}/allowed`] });
    await expectError(await chat(key, { model: `${provider}/other`, messages: userMessage() }), 403);
    expect((await chat(key, { model: `${provider}/allowed`, messages: userMessage() })).status).toBe(200);
    const { key: wildcard } = await createKey({ models: [`${provider}/*`] });
    expect((await chat(wildcard, { model: `${provider}/other`, messages: userMessage() })).status).toBe(200);
  });

  it("413 for a body over MAX_BODY_BYTES (64 KiB in tests)", async () => {
    const { key, model } = await setup();
    const body = { model, messages: userMessage("x".repeat(70 * 1024)) };
    await expectError(await chat(key, body), 413, /larger than 65536 bytes/);
  });

  it("413 for a chunked body over the limit, without a content-length", async () => {
    const { key, model } = await setup();
    const text = JSON.stringify({ model, messages: userMessage("y".repeat(70 * 1024)) });
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(text));
        c.close();
      },
    });
    const res = await chat(key, stream);
    await expectError(res, 413);
  });

  it("400 when the provider does not allow chat requests", async () => {
    const { key, provider } = await setup({ requests: ["embeddings"] });
    await expectError(
      await chat(key, { model: `${provider}/m`, messages: userMessage() }),
      400,
      /does not allow 'chat'/,
    );
  });

  it("500 naming the missing secret, never a value", async () => {
    const { key, provider } = await setup({ auth: { type: "bearer", secret: "NOT_CONFIGURED_SECRET" } });
    const err = await expectError(await chat(key, { model: `${provider}/m`, messages: userMessage() }), 500);
    expect(err.error.message).toContain("NOT_CONFIGURED_SECRET");
  });
});

describe("upstream errors", () => {
  const fault = (spec: string) => ({ "x-emulator-fault": spec });

  it.each([401, 403])("upstream %i → 502 naming the provider, not the token", async (status) => {
    const { key, model, provider } = await setup();
    const err = await expectError(
      await chat(key, { model, messages: userMessage() }, fault(`status=${status}`)),
      502,
      new RegExp(`Provider '${provider}' rejected the gateway's credentials`),
    );
    expect(err.error.message).not.toContain("Bearer");
  });

  it("a wrong PAT at the upstream is a 502 too", async () => {
    const { key, provider } = await setup({ auth: { type: "bearer", secret: "ADMIN_TOKEN" } });
    await expectError(
      await chat(key, { model: `${provider}/m`, messages: userMessage() }),
      502,
      /rejected the gateway's credentials/,
    );
  });

  it("upstream 429 → 429 keeping retry-after", async () => {
    const { key, model } = await setup();
    const res = await chat(key, { model, messages: userMessage() }, fault("status=429;retry_after=7"));
    expect(res.headers.get("retry-after")).toBe("7");
    const err = await expectError(res, 429, /rate limiting/);
    expect(err.error.type).toBe("rate_limit_error");
  });

  it.each([400, 404, 422])("upstream %i → the same status with its message", async (status) => {
    const { key, model } = await setup();
    const res = await chat(key, { model, messages: userMessage() }, fault(`status=${status}`));
    const err = await expectError(res, status);
    expect(err.error.message.length).toBeGreaterThan(0);
  });

  it.each([500, 503])("upstream %i → 502", async (status) => {
    const { key, model, provider } = await setup();
    await expectError(
      await chat(key, { model, messages: userMessage() }, fault(`status=${status}`)),
      502,
      new RegExp(provider),
    );
  });

  it("no first byte within timeoutMs → 504", async () => {
    const { key, provider } = await setup({ timeoutMs: 300 });
    // An upstream that never answers: only the timeout can end this call.
    const res = await chat(key, { model: `${provider}/m`, messages: userMessage() }, fault("hang=1"));
    await expectError(res, 504, /did not answer within 300 ms/);
  });

  it("an unreachable upstream → 502", async () => {
    const { key, provider } = await setup({ baseUrl: "http://127.0.0.1:9/mlflow" });
    await expectError(
      await chat(key, { model: `${provider}/m`, messages: userMessage() }),
      502,
      /Could not reach/,
    );
  });

  it("streaming requests get the same error mapping before the first byte", async () => {
    const { key, model } = await setup();
    const res = await chat(
      key,
      { model, messages: userMessage(), stream: true },
      fault("status=429;retry_after=3"),
    );
    expect(res.headers.get("retry-after")).toBe("3");
    await expectError(res, 429);
  });
});

describe("routing", () => {
  it("404 in OpenAI's shape for an unknown route", async () => {
    const { key } = await setup();
    const res = await chat(key, {}, {}, "/v1/nothing-here");
    await expectError(res, 404);
  });

  it("serves /openai/v1/chat/completions too", async () => {
    const { key, model } = await setup();
    expect(
      (await chat(key, { model, messages: userMessage() }, {}, "/openai/v1/chat/completions")).status,
    ).toBe(200);
  });

  it("admin is unaffected by a virtual key", async () => {
    const { key } = await setup();
    const res = await admin("GET", "/keys");
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).not.toContain(key);
  });
});
