import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, chat, createKey, setup, userMessage } from "./helpers";

async function sha256Hex(text: string) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

type ErrorBody = { error: { message: string; type: string } };

async function expect401(res: Response, message: RegExp) {
  expect(res.status).toBe(401);
  expect(res.headers.get("x-request-id")).toBeTruthy();
  const body = (await res.json()) as ErrorBody;
  expect(body.error.type).toBe("authentication_error");
  expect(body.error.message).toMatch(message);
}

describe("virtual key authentication", () => {
  it("accepts the key as Bearer and as x-api-key", async () => {
    const { key, model } = await setup();
    const body = { model, messages: userMessage() };
    expect((await chat(key, body)).status).toBe(200);
    expect((await chat(null, body, { "x-api-key": key })).status).toBe(200);
  });

  it("refuses a missing key", async () => {
    await expect401(await chat(null, { model: "p/m", messages: userMessage() }), /Missing API key/);
  });

  it("refuses an unknown key", async () => {
    await expect401(
      await chat("bl-not-a-real-key", { model: "p/m", messages: userMessage() }),
      /Invalid API key/,
    );
  });

  it("refuses a disabled key at once, and accepts it again when re-enabled", async () => {
    const { key, id, model } = await setup();
    const body = { model, messages: userMessage() };
    expect((await chat(key, body)).status).toBe(200);
    await admin("PATCH", `/keys/${id}`, { disabled: true });
    await expect401(await chat(key, body), /disabled/);
    await admin("PATCH", `/keys/${id}`, { disabled: false });
    expect((await chat(key, body)).status).toBe(200);
  });

  it("refuses an expired key", async () => {
    const { key, model } = await setup();
    const { key: expired } = await createKey({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    await expect401(await chat(expired, { model, messages: userMessage() }), /expired/);
  });

  it("refuses a key once its expiry is set in the past by PATCH", async () => {
    const { key, id, model } = await setup();
    await admin("PATCH", `/keys/${id}`, { expiresAt: new Date(Date.now() - 1).toISOString() });
    await expect401(await chat(key, { model, messages: userMessage() }), /expired/);
  });

  it("refuses a deleted key even while a stale KV copy still has it (the Durable Object decides)", async () => {
    const { key, id, model } = await setup();
    const hash = await sha256Hex(key);
    const stale = await env.CONFIG.get(`key:${hash}`);
    expect((await chat(key, { model, messages: userMessage() })).status).toBe(200);
    await admin("DELETE", `/keys/${id}`);
    // Another location's KV may still serve the record for up to a minute: put it back to simulate that.
    await env.CONFIG.put(`key:${hash}`, stale ?? "");
    await expect401(await chat(key, { model, messages: userMessage() }), /Invalid API key/);
  });

  it("refuses a disabled key even while a stale KV copy says it is enabled", async () => {
    const { key, id, model } = await setup();
    const hash = await sha256Hex(key);
    const enabled = await env.CONFIG.get(`key:${hash}`);
    await admin("PATCH", `/keys/${id}`, { disabled: true });
    await env.CONFIG.put(`key:${hash}`, enabled ?? "");
    await expect401(await chat(key, { model, messages: userMessage() }), /disabled/);
  });

  it("answers a refused key with 401 even when its request is also bad, on every route", async () => {
    const { key, id, provider } = await setup();
    await admin("PATCH", `/keys/${id}`, { disabled: true });
    // The route finds the malformed body before the Durable Object answers: the refusal still wins.
    await expect401(await chat(key, "{not json"), /disabled/);
    await expect401(await chat(key, { model: "unknown/x", messages: userMessage() }), /disabled/);
    // count_tokens to an OpenAI provider never calls upstream; the refusal holds there too.
    const res = await chat(
      key,
      { model: `${provider}/m`, messages: userMessage() },
      { "anthropic-version": "2023-06-01" },
      "/v1/messages/count_tokens",
    );
    expect(res.status).toBe(401);
    expect(((await res.json()) as { type: string }).type).toBe("error");
  });
});
