import { describe, expect, it } from "vitest";
import { observedWorker } from "./call-log-helpers";
import {
  admin,
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

const HEADER = "databricks-ai-gateway-request-tags";

async function tagged(providerOverrides: Json = { requestTags: true }, keyBody: Json = {}) {
  const provider = uniqueName();
  await putProvider(provider, providerOverrides);
  const team = uniqueName("t");
  // A key may name only a team that exists.
  expect((await admin("PUT", `/teams/${team}`, {})).status).toBe(200);
  const created = await createKey({ name: "tags test", team, ...keyBody });
  return { provider, team, ...created, model: `${provider}/m` };
}

/** The request tags header the upstream got for the call tagged `marker` (undefined if none). */
async function upstreamTags(marker: string): Promise<string | undefined> {
  const seen = (await emulatorRequests()).filter((r) => r.headers["x-trace"] === marker);
  expect(seen).toHaveLength(1);
  return seen[0]?.headers[HEADER];
}

async function call(key: string, model: string, headers: Record<string, string> = {}) {
  const marker = crypto.randomUUID();
  const res = await chat(key, { model, messages: userMessage() }, { "x-trace": marker, ...headers });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return upstreamTags(marker);
}

describe("Databricks-Ai-Gateway-Request-Tags", () => {
  it("a provider with requestTags gets the key's name and id and its team on every call", async () => {
    const { key, id, team, model } = await tagged();
    expect(JSON.parse((await call(key, model)) ?? "null")).toEqual({ key: "tags test", key_id: id, team });
  });

  it("merges the client's tags, the gateway's winning on a clash", async () => {
    const { key, id, team, model } = await tagged();
    const client = JSON.stringify({ project: "atlas", team: "someone-else", key: "spoofed" });
    expect(JSON.parse((await call(key, model, { [HEADER]: client })) ?? "null")).toEqual({
      project: "atlas",
      key: "tags test",
      key_id: id,
      team,
    });
  });

  it("drops a malformed client value instead of failing the call", async () => {
    const { key, id, team, model } = await tagged();
    for (const bad of ["not json", '{"n": 1}', "[]"]) {
      expect(JSON.parse((await call(key, model, { [HEADER]: bad })) ?? "null")).toEqual({
        key: "tags test",
        key_id: id,
        team,
      });
    }
  });

  it("names the route when one served, on the Anthropic route too, with non-ASCII names escaped", async () => {
    const { provider, key, id } = await tagged(
      { requestTags: true, ...anthropicFormat() },
      { name: "Zoë's laptop" },
    );
    const route = uniqueName("r");
    expect(
      (await admin("PUT", `/routes/${route}`, { destinations: [{ provider, model: "m" }] })).status,
    ).toBe(200);
    const marker = crypto.randomUUID();
    const res = await messages(
      key,
      { model: route, max_tokens: 10, messages: userMessage() },
      { "x-trace": marker },
    );
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const header = (await upstreamTags(marker)) ?? "";
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(header)).toMatchObject({ key: "Zoë's laptop", key_id: id, route });
  });

  it("a provider without requestTags passes the client's header through untouched", async () => {
    const { key, model } = await tagged({});
    expect(await call(key, model)).toBeUndefined();
    const client = '{"team":"as the client wrote it", "n": 1}';
    expect(await call(key, model, { [HEADER]: client })).toBe(client);
  });

  it("the call log records the tags that went upstream", async () => {
    const w = observedWorker();
    const { key, id, team, model } = await tagged();
    const { res, settled } = await w.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, [HEADER]: '{"project":"atlas"}' },
      body: JSON.stringify({ model, messages: userMessage() }),
    });
    await res.arrayBuffer();
    await settled();
    expect(w.sent.map((r) => r.requestTags)).toEqual([
      { project: "atlas", key: "tags test", key_id: id, team },
    ]);
  });
});
