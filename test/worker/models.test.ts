import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PAT, admin, createKey, emulatorUrl, putProvider, uniqueName, type Json } from "./helpers";

/** GET /v1/models: providers' static models and Unity Catalog models, filtered by the key, cached. */

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

type Recorded = { path: string; query: Record<string, string>; headers: Record<string, string> };

async function emulatorRequests(): Promise<Recorded[]> {
  return (await (await fetch(`${emulatorUrl()}/__emulator/requests`)).json()) as Recorded[];
}

const ucUrl = () => `${emulatorUrl()}/api/2.1/unity-catalog/models`;

function listModels(key: string | null, headers: Record<string, string> = {}, path = "/v1/models") {
  return SELF.fetch(`http://gateway.test${path}`, {
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
  });
}

/** A provider with a static model list, so it answers only the models it lists. */
async function uniqueProviderWithList(): Promise<string> {
  const name = uniqueName("listed");
  await putProvider(name, { models: ["listed-model"] });
  return name;
}

type OpenAiList = {
  object: string;
  data: { id: string; object: string; created: number; owned_by: string }[];
};

/** A provider with a tag header, so its Unity Catalog requests can be told apart in the emulator's log. */
async function ucProvider(overrides: Json = {}) {
  const name = uniqueName("uc");
  const tag = uniqueName("tag");
  await putProvider(name, {
    listModelsUrl: ucUrl(),
    models: ["static-a", "databricks-claude-sonnet-4"],
    headers: { "x-test-tag": tag },
    ...overrides,
  });
  const ucRequests = async () =>
    (await emulatorRequests()).filter(
      (r) => r.path === "/api/2.1/unity-catalog/models" && r.headers["x-test-tag"] === tag,
    );
  return { name, ucRequests };
}

describe("GET /v1/models", () => {
  it("lists static models, then every Unity Catalog page, as <provider>/<name> in OpenAI's shape", async () => {
    const { name, ucRequests } = await ucProvider();
    const { key } = await createKey({ providers: [name] });
    const res = await listModels(key);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-warning")).toBeNull();
    const body = (await res.json()) as OpenAiList;
    expect(body.object).toBe("list");
    // The static duplicate of a UC model is listed once, where it first appears.
    expect(body.data.map((m) => m.id)).toEqual(["static-a", ...UC_MODELS].map((m) => `${name}/${m}`));
    for (const m of body.data) {
      expect(m.object).toBe("model");
      expect(m.owned_by).toBe(name);
    }
    // UC's created_at (epoch ms) becomes seconds.
    expect(body.data.find((m) => m.id === `${name}/databricks-claude-3-7-sonnet`)?.created).toBe(
      Date.UTC(2025, 0, 16) / 1000,
    );

    // Four pages (3, an empty one that still carries a token, 3, 1), each with the provider's secret.
    const seen = await ucRequests();
    expect(seen).toHaveLength(4);
    expect(seen.map((r) => r.headers.authorization)).toEqual(Array(4).fill(`Bearer ${PAT}`));
    expect(seen[0]?.query).toEqual({});
    expect(seen.slice(1).every((r) => typeof r.query?.page_token === "string")).toBe(true);
    expect(JSON.stringify(seen)).not.toContain(key);
  });

  it("caches a provider's Unity Catalog listing in the isolate", async () => {
    const { name, ucRequests } = await ucProvider();
    const { key } = await createKey({ providers: [name] });
    const first = (await (await listModels(key)).json()) as OpenAiList;
    const second = (await (await listModels(key)).json()) as OpenAiList;
    expect(second).toEqual(first);
    expect(await ucRequests()).toHaveLength(4);
  });

  it("shows only what the key may use: providers and model patterns", async () => {
    const a = await ucProvider();
    const b = await ucProvider({ listModelsUrl: undefined, models: ["only-b"] });
    const c = await ucProvider({ listModelsUrl: undefined, models: ["hidden"] });

    const byProvider = await createKey({ providers: [a.name, b.name] });
    const ids = ((await (await listModels(byProvider.key)).json()) as OpenAiList).data.map((m) => m.id);
    expect(ids).toContain(`${b.name}/only-b`);
    expect(ids).toContain(`${a.name}/databricks-gpt-oss-120b`);
    expect(ids.some((id) => id.startsWith(`${c.name}/`))).toBe(false);

    const byModel = await createKey({
      models: [`${a.name}/databricks-claude-sonnet-4`, `${b.name}/*`],
    });
    const ids2 = ((await (await listModels(byModel.key)).json()) as OpenAiList).data.map((m) => m.id);
    expect(ids2).toEqual([`${a.name}/databricks-claude-sonnet-4`, `${b.name}/only-b`]);
  });

  it("refuses a bad key in Anthropic's shape when the client sends anthropic-version", async () => {
    const res = await listModels("bl-not-a-key", { "anthropic-version": "2023-06-01" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const openai = await listModels("bl-not-a-key");
    expect(await openai.json()).toMatchObject({ error: { type: "authentication_error" } });
  });

  it("answers Anthropic's list shape to a client that sends anthropic-version", async () => {
    const { name } = await ucProvider({ listModelsUrl: undefined, models: ["m1", "m2"] });
    const { key } = await createKey({ providers: [name] });
    for (const res of [
      await listModels(key, { "anthropic-version": "2023-06-01" }),
      await listModels(key, {}, "/anthropic/v1/models"),
    ]) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        data: [
          {
            type: "model",
            id: `${name}/m1`,
            display_name: `${name}/m1`,
            created_at: "1970-01-01T00:00:00.000Z",
          },
          {
            type: "model",
            id: `${name}/m2`,
            display_name: `${name}/m2`,
            created_at: "1970-01-01T00:00:00.000Z",
          },
        ],
        has_more: false,
        first_id: `${name}/m1`,
        last_id: `${name}/m2`,
      });
    }
  });

  it.each([
    ["the catalog answers 500", { headers: { "x-emulator-fault": "status=500" } }],
    ["the catalog answers 429", { headers: { "x-emulator-fault": "status=429" } }],
    ["the catalog URL is wrong (404)", { listModelsUrl: `${emulatorUrl()}/api/2.1/unity-catalog/nope` }],
    ["the provider's secret is not set", { auth: { type: "bearer", secret: "NOT_CONFIGURED_SECRET" } }],
    ["the catalog is unreachable", { listModelsUrl: "http://127.0.0.1:9/api/2.1/unity-catalog/models" }],
  ])("degrades to the rest with a warning header when %s", async (_n, overrides) => {
    const broken = await ucProvider(overrides);
    const healthy = await ucProvider();
    const { key } = await createKey({ providers: [broken.name, healthy.name] });
    const res = await listModels(key);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-warning")).toContain(`'${broken.name}'`);
    expect(res.headers.get("x-bricklane-warning")).not.toContain(healthy.name);
    expect(res.headers.get("x-bricklane-warning")).not.toContain(PAT);
    const ids = ((await res.json()) as OpenAiList).data.map((m) => m.id);
    // The broken provider's static models are still listed; the healthy one's catalog is complete.
    expect(ids).toContain(`${broken.name}/static-a`);
    expect(ids.filter((id) => id.startsWith(`${broken.name}/`))).toHaveLength(2);
    expect(ids.filter((id) => id.startsWith(`${healthy.name}/`))).toHaveLength(1 + UC_MODELS.length);
  });

  it("retrieves one model by its id, slashes and all; 404 for one the key may not use", async () => {
    const { name } = await ucProvider({ listModelsUrl: undefined, models: ["org/model-x"] });
    const { key } = await createKey({ providers: [name] });
    const res = await listModels(key, {}, `/v1/models/${name}/org/model-x`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: `${name}/org/model-x`,
      object: "model",
      created: 0,
      owned_by: name,
    });

    const missing = await listModels(key, {}, `/v1/models/${name}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(
      /does not exist/,
    );

    const anthropic = await listModels(key, { "anthropic-version": "2023-06-01" }, `/v1/models/${name}/nope`);
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  it("answers a model by id on a provider that keeps no list, for a key that may use it", async () => {
    const name = uniqueName("bare");
    await putProvider(name);
    const listed = await uniqueProviderWithList();
    const { key } = await createKey({ providers: [name, listed] });
    const res = await listModels(key, {}, `/v1/models/${name}/databricks-claude-sonnet-4-5`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: `${name}/databricks-claude-sonnet-4-5`,
      object: "model",
      created: 0,
      owned_by: name,
    });
    const anthropic = await listModels(
      key,
      { "anthropic-version": "2023-06-01" },
      `/v1/models/${name}/any/model`,
    );
    expect(await anthropic.json()).toMatchObject({ type: "model", id: `${name}/any/model` });

    // A provider with a list answers only what it lists; an unknown provider or a model outside the
    // key's allowlist is not found either.
    expect((await listModels(key, {}, `/v1/models/${listed}/unlisted`)).status).toBe(404);
    expect((await listModels(key, {}, `/v1/models/${uniqueName("none")}/m`)).status).toBe(404);
    const narrow = await createKey({ models: [`${name}/only-this`] });
    expect((await listModels(narrow.key, {}, `/v1/models/${name}/only-this`)).status).toBe(200);
    expect((await listModels(narrow.key, {}, `/v1/models/${name}/other`)).status).toBe(404);
  });

  it("lists a route only when the key may use one of its destinations or fallbacks", async () => {
    const [mine, theirs, fallback] = [uniqueName("mine"), uniqueName("theirs"), uniqueName("fb")];
    for (const name of [mine, theirs, fallback]) await putProvider(name);
    const [onTheirs, onMine, viaFallback] = [uniqueName("r"), uniqueName("r"), uniqueName("r")];
    const route = (dest: string, fallbacks: string[] = []) => ({
      destinations: [{ provider: dest, model: "m" }],
      fallbacks: fallbacks.map((provider) => ({ provider, model: "m" })),
    });
    expect((await admin("PUT", `/routes/${onTheirs}`, route(theirs))).status).toBe(200);
    expect((await admin("PUT", `/routes/${onMine}`, route(mine))).status).toBe(200);
    expect((await admin("PUT", `/routes/${viaFallback}`, route(theirs, [fallback]))).status).toBe(200);

    const { key } = await createKey({ providers: [mine, fallback] });
    const ids = ((await (await listModels(key)).json()) as OpenAiList).data.map((m) => m.id);
    expect(ids).toContain(onMine);
    expect(ids).toContain(viaFallback);
    expect(ids).not.toContain(onTheirs);

    const everyone = await createKey();
    const all = ((await (await listModels(everyone.key)).json()) as OpenAiList).data.map((m) => m.id);
    expect(all).toEqual(expect.arrayContaining([onMine, viaFallback, onTheirs]));
  });

  it("needs a key", async () => {
    const res = await listModels(null);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
  });
});
