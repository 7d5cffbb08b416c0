import { describe, expect, it } from "vitest";
import {
  admin,
  anthropicFormat,
  chat,
  chatSettled,
  createKey,
  emulatorRequests,
  setup,
  uniqueName,
  putProvider,
  type Json,
} from "./helpers";

/** POST /v1/embeddings: openai-format providers only; base64 answered by the gateway. */

const embed = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  chat(key, body, headers, "/v1/embeddings");

type EmbeddingList = {
  object: string;
  model: string;
  data: { object: string; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
};

/** Decodes OpenAI's base64 embedding: little-endian float32. */
function decode(b64: string): number[] {
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** The emulator's record of the last embeddings request carrying `marker` in its input. */
async function upstreamBody(marker: string): Promise<Json | null | undefined> {
  const seen = (await emulatorRequests()).filter(
    (r) => r.path === "/mlflow/v1/embeddings" && JSON.stringify(r.body).includes(marker),
  );
  return seen.at(-1)?.body;
}

describe("POST /v1/embeddings", () => {
  it("passes floats through when the client asks floats (or names no format)", async () => {
    const { key, provider } = await setup();
    const marker = uniqueName("float");
    const res = await embed(key, {
      model: `${provider}/databricks-gte-large-en`,
      input: [marker, "two"],
      encoding_format: "float",
      dimensions: 16,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingList;
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(2);
    expect(body.data[0]?.embedding).toHaveLength(16);
    expect(typeof (body.data[0]?.embedding as number[])[0]).toBe("number");
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    // Passthrough: only model rewritten, the rest as sent.
    expect(await upstreamBody(marker)).toEqual({
      model: "databricks-gte-large-en",
      input: [marker, "two"],
      encoding_format: "float",
      dimensions: 16,
    });

    const plain = (await (
      await embed(key, { model: `${provider}/databricks-gte-large-en`, input: marker })
    ).json()) as EmbeddingList;
    expect(Array.isArray(plain.data[0]?.embedding)).toBe(true);
  });

  it("answers base64 (little-endian float32) when asked, though the upstream only sends floats", async () => {
    const { key, provider } = await setup();
    const model = `${provider}/databricks-gte-large-en`;
    const marker = uniqueName("b64");
    const floats = (await (
      await embed(key, { model, input: [marker, "second"], encoding_format: "float" })
    ).json()) as EmbeddingList;
    const res = await embed(key, { model, input: [marker, "second"], encoding_format: "base64", user: "u1" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as EmbeddingList;
    expect(body.usage).toEqual(floats.usage);
    expect(body.data.map((d) => d.index)).toEqual([0, 1]);
    for (const [i, item] of body.data.entries()) {
      expect(typeof item.embedding).toBe("string");
      const expected = floats.data[i]?.embedding as number[];
      const decoded = decode(item.embedding as string);
      expect(decoded).toHaveLength(expected.length);
      for (const [j, v] of decoded.entries()) expect(v).toBe(Math.fround(expected[j] ?? NaN));
    }
    // The upstream was asked for floats (no encoding_format); other fields went on unchanged.
    const sent = await upstreamBody(marker);
    expect(sent).not.toHaveProperty("encoding_format");
    expect(sent?.user).toBe("u1");
  });

  it("400 for an anthropic-format provider, before anything goes upstream", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const marker = uniqueName("ant");
    const res = await embed(key, { model: `${provider}/m`, input: marker });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; param: string } };
    expect(body.error.message).toMatch(/Anthropic format.*no embeddings API/);
    expect(body.error.param).toBe("model");
    expect((await emulatorRequests()).some((r) => JSON.stringify(r.body).includes(marker))).toBe(false);
  });

  it("400 naming 'embeddings' when the provider does not allow them", async () => {
    const { key, provider } = await setup({ requests: ["chat"] });
    const res = await embed(key, { model: `${provider}/m`, input: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /does not allow 'embeddings'/,
    );
  });

  it.each([
    ["input missing", { model: "p/m" }, "input"],
    ["input empty", { model: "p/m", input: [] }, "input"],
    ["model missing", { input: "x" }, "model"],
    ["an unknown encoding_format", { model: "p/m", input: "x", encoding_format: "int8" }, "encoding_format"],
  ])("400 naming the field when %s", async (_n, body, param) => {
    const { key } = await setup();
    const res = await embed(key, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
  });

  it("400 on malformed JSON; 403 for a model the key may not use", async () => {
    const { key, provider } = await setup();
    expect((await embed(key, "{nope")).status).toBe(400);
    const other = uniqueName();
    await putProvider(other);
    const restricted = await createKey({ providers: [other] });
    expect((await embed(restricted.key, { model: `${provider}/m`, input: "x" })).status).toBe(403);
  });

  it("maps upstream failures: 500 → 502, 429 → 429 with retry-after, bad body → 502", async () => {
    const { key, provider } = await setup();
    const model = `${provider}/m`;
    const failed = await embed(key, { model, input: "x" }, { "x-emulator-fault": "status=500" });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: { message: string } }).error.message).toContain(provider);
    const limited = await embed(
      key,
      { model, input: "x", encoding_format: "base64" },
      { "x-emulator-fault": "status=429;retry_after=3" },
    );
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
  });
});

describe("POST /v1/embeddings: accounting", () => {
  it("counts the input tokens against the key", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const { id, key } = await createKey({ limits: { tpm: 100_000 } });
    const { text } = await chatSettled(
      key,
      { model: `${provider}/m`, input: "count these words", encoding_format: "base64" },
      {},
      "/v1/embeddings",
    );
    const body = JSON.parse(text) as EmbeddingList;
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    const live = (await admin("GET", `/keys/${id}`)).json.live as { tokens?: { remaining: number } };
    expect(100_000 - (live.tokens?.remaining ?? 100_000)).toBe(body.usage.prompt_tokens);
  });
});
