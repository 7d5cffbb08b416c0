import { describe, expect, it } from "vitest";
import { PAT, chat, emulatorRequests, setup, sseData, userMessage } from "./helpers";

type Chunk = {
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
};

describe("chat completions passthrough", () => {
  it("forwards the body with only `model` rewritten, unknown fields kept, and the PAT injected", async () => {
    const { key, provider } = await setup({ headers: { "x-databricks-team": "ml" } });
    const body = {
      model: `${provider}/databricks-meta-llama`,
      messages: userMessage("what is 2+2?"),
      temperature: 0.2,
      databricks_extra: { nested: [1, 2, 3] },
    };
    const marker = crypto.randomUUID();
    const res = await chat(key, body, { cookie: "session=abc", "x-trace": marker, connection: "keep-alive" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const json = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(json.choices[0]?.message.content).toContain("what is 2+2?");

    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(seen).toBeDefined();
    expect(seen?.path).toBe("/mlflow/v1/chat/completions");
    expect(seen?.body).toEqual({ ...body, model: "databricks-meta-llama" });
    expect(seen?.headers.authorization).toBe(`Bearer ${PAT}`);
    expect(seen?.headers["x-databricks-team"]).toBe("ml");
    // Neither the virtual key nor the client's cookie leaves the gateway.
    expect(JSON.stringify(seen)).not.toContain(key);
    expect(seen?.headers.cookie).toBeUndefined();
    expect(seen?.headers["x-api-key"]).toBeUndefined();
  });

  it("does not forward an x-api-key virtual key either", async () => {
    const { key, model } = await setup();
    const marker = crypto.randomUUID();
    const res = await chat(null, { model, messages: userMessage() }, { "x-api-key": key, "x-trace": marker });
    expect(res.status).toBe(200);
    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(JSON.stringify(seen)).not.toContain(key);
    expect(seen?.headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it("streams SSE through, asks upstream for usage, and removes the usage chunk the client did not ask for", async () => {
    const { key, model } = await setup();
    const marker = crypto.randomUUID();
    const res = await chat(
      key,
      { model, messages: userMessage("stream me"), stream: true },
      { "x-trace": marker },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toContain("stream me");
    expect(chunks.some((c) => c.choices.length === 0)).toBe(false);

    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    expect(seen?.body?.stream_options).toEqual({ include_usage: true });
  });

  it("keeps the usage chunk when the client asked for it", async () => {
    const { key, model } = await setup();
    const res = await chat(key, {
      model,
      messages: userMessage(),
      stream: true,
      stream_options: { include_usage: true },
    });
    const data = sseData(await res.text());
    const usageChunk = data
      .filter((d) => d !== "[DONE]")
      .map((d) => JSON.parse(d) as Chunk)
      .find((c) => c.choices.length === 0);
    expect(usageChunk?.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usageChunk?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("ends a stream cut by the upstream with an in-band error, never a clean end", async () => {
    const { key, model } = await setup();
    const res = await chat(
      key,
      { model, messages: userMessage(), stream: true },
      { "x-emulator-fault": "cut_after=2" },
    );
    expect(res.status).toBe(200);
    const data = sseData(await res.text());
    expect(data).not.toContain("[DONE]");
    const last = JSON.parse(data.at(-1) ?? "{}") as { error?: { message: string } };
    expect(last.error?.message).toMatch(/ended before the response was complete/);
    // What came before the cut was delivered.
    expect(data.length).toBeGreaterThanOrEqual(3);
  });

  it("passes an upstream in-band error through", async () => {
    const { key, model } = await setup();
    const res = await chat(
      key,
      { model, messages: userMessage(), stream: true },
      { "x-emulator-fault": "error_after=2" },
    );
    const data = sseData(await res.text());
    expect(data.some((d) => d.includes('"error"'))).toBe(true);
    expect(data).not.toContain("[DONE]");
  });

  it("streams a large response without buffering it", async () => {
    const { key, model } = await setup();
    const res = await chat(
      key,
      { model, messages: userMessage(), stream: true },
      { "x-emulator-fault": "chunks=2000;chunk_bytes=512" },
    );
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    let bytes = first.value?.byteLength ?? 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    expect(bytes).toBeGreaterThan(2000 * 512);
  });
});
