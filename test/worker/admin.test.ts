import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, createKey, putProvider, uniqueName } from "./helpers";

async function sha256Hex(text: string) {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("admin auth", () => {
  it.each([
    ["no header", undefined],
    ["wrong token", "Bearer not-the-token"],
    ["token as a prefix", "Bearer test-admin-token-extra"],
    ["basic scheme", "Basic test-admin-token"],
  ])("refuses %s with 401", async (_name, authorization) => {
    const res = await SELF.fetch("http://gateway.test/admin/providers", {
      headers: authorization ? { authorization } : {},
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = (await res.json()) as { error: { type: string } };
    expect(body.error.type).toBe("authentication_error");
  });
});

describe("providers", () => {
  it("stores, reads, lists and deletes a provider", async () => {
    const name = uniqueName();
    const put = await putProvider(name, { headers: { "x-team": "a" }, timeoutMs: 5000 });
    expect(put).toMatchObject({ name, format: "openai", timeoutMs: 5000 });

    const got = await admin("GET", `/providers/${name}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ name, headers: { "x-team": "a" } });

    const list = await admin("GET", "/providers");
    expect((list.json.data as Array<{ name: string }>).map((p) => p.name)).toContain(name);

    expect((await admin("DELETE", `/providers/${name}`)).status).toBe(200);
    expect((await admin("GET", `/providers/${name}`)).status).toBe(404);
    expect((await admin("DELETE", `/providers/${name}`)).status).toBe(404);
  });

  const base = { format: "openai", auth: { type: "bearer", secret: "DATABRICKS_PAT" } };
  it.each([
    ["an unknown field", { ...base, baseUrl: "https://ws.example.com/mlflow", extra: 1 }, ""],
    ["plain http to a public host", { ...base, baseUrl: "http://ws.example.com/mlflow" }, "baseUrl"],
    ["a wrong format", { ...base, format: "gemini", baseUrl: "https://x.example.com" }, "format"],
    [
      "a secret that is not a secret name",
      { ...base, baseUrl: "https://x.example.com", auth: { type: "bearer", secret: "dapi123 value" } },
      "auth.secret",
    ],
    [
      "an authorization header",
      { ...base, baseUrl: "https://x.example.com", headers: { Authorization: "Bearer x" } },
      "headers",
    ],
    ["a negative timeout", { ...base, baseUrl: "https://x.example.com", timeoutMs: -1 }, "timeoutMs"],
    [
      "an unknown auth field",
      { ...base, baseUrl: "https://x.example.com", auth: { type: "none", token: "x" } },
      "auth",
    ],
  ])("rejects %s with 400", async (_name, body, param) => {
    const r = await admin("PUT", `/providers/${uniqueName()}`, body);
    expect(r.status).toBe(400);
    const error = r.json.error as { param: string | null; message: string };
    if (param) expect(error.param).toBe(param);
    expect(error.message).toMatch(/Invalid request body/);
  });

  it.each(["\r\nx-injected: 1", "a\nb", "nul\u0000", "bell\u0007", "naïve"])(
    "rejects the static header value %j with 400 naming it (it would break every call)",
    async (value) => {
      const body = { ...base, baseUrl: "https://x.example.com", headers: { "x-team": value } };
      const r = await admin("PUT", `/providers/${uniqueName()}`, body);
      expect(r.status).toBe(400);
      expect((r.json.error as { param: string }).param).toBe("headers.x-team");
    },
  );

  it.each([
    "http://127.0.0.1:9/x",
    "http://localhost:9/x",
    "http://[::1]:9/x",
    "https://ws.cloud.databricks.com/mlflow",
  ])("accepts %s", async (baseUrl) => {
    const r = await admin("PUT", `/providers/${uniqueName()}`, { ...base, baseUrl });
    expect(r.status).toBe(200);
  });

  it("answers 413 to a body over 1 MiB, before reading it whole, and takes one just under", async () => {
    const name = uniqueName();
    const provider = { ...base, baseUrl: "https://x.example.com", models: ["m"] };
    const padding = " ".repeat(1024 * 1024 - JSON.stringify(provider).length - 1);
    const under = await admin("PUT", `/providers/${name}`, JSON.stringify(provider) + padding);
    expect(under.status).toBe(200);
    const over = await admin("PUT", `/providers/${name}`, JSON.stringify(provider) + padding + "  ");
    expect(over.status).toBe(413);
    expect(over.json).toMatchObject({ error: { code: "request_too_large" } });
    // A body with no length announced (streamed) is counted as it arrives.
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await SELF.fetch(`http://gateway.test/admin/providers/${name}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: stream,
    });
    expect(streamed.status).toBe(413);
  });

  it("rejects a provider name with a slash or odd characters", async () => {
    const r = await admin("PUT", "/providers/bad%20name", { ...base, baseUrl: "https://x.example.com" });
    expect(r.status).toBe(400);
  });

  it("validates on read: a hand-edited KV value is refused, not half-used", async () => {
    const name = uniqueName();
    await env.CONFIG.put(
      `provider:${name}`,
      JSON.stringify({
        format: "openai",
        baseUrl: "https://x.example.com",
        auth: { type: "none" },
        surprise: true,
      }),
    );
    const r = await admin("GET", `/providers/${name}`);
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.json)).not.toContain("surprise");
  });

  it("answers malformed JSON with 400", async () => {
    const res = await SELF.fetch(`http://gateway.test/admin/providers/${uniqueName()}`, {
      method: "PUT",
      headers: { authorization: "Bearer test-admin-token" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
  });
});

describe("keys", () => {
  it("shows the key once and stores only its SHA-256", async () => {
    const team = uniqueName("t");
    const provider = uniqueName();
    expect((await admin("PUT", `/teams/${team}`, {})).status).toBe(200);
    await putProvider(provider);
    const created = await admin("POST", "/keys", { name: "ci", team, models: [`${provider}/m`] });
    expect(created.status).toBe(201);
    const key = String(created.json.key);
    const id = String(created.json.id);
    expect(key).toMatch(/^bl-[A-Za-z0-9_-]{43}$/);
    expect(id).toMatch(/^key_[0-9a-f]{16}$/);

    const stored = await env.CONFIG.get(`key:${await sha256Hex(key)}`, "json");
    expect(stored).toMatchObject({ id, name: "ci", team });
    // Nothing in KV holds the plaintext key.
    const all = await env.CONFIG.list();
    for (const k of all.keys) {
      expect(k.name).not.toContain(key);
      expect((await env.CONFIG.get(k.name)) ?? "").not.toContain(key);
    }

    const got = await admin("GET", `/keys/${id}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id, name: "ci", status: "active" });
    expect(JSON.stringify(got.json)).not.toContain(key);

    const list = await admin("GET", "/keys");
    const listed = (list.json.data as Array<{ id: string }>).find((k) => k.id === id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.json)).not.toContain(key);
  });

  it("patches fields and clears them with null", async () => {
    const team = uniqueName("t");
    const provider = uniqueName();
    expect((await admin("PUT", `/teams/${team}`, {})).status).toBe(200);
    await putProvider(provider);
    const { id } = await createKey({ team, providers: [provider] });
    const r = await admin("PATCH", `/keys/${id}`, { name: "renamed", team: null, disabled: true });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      name: "renamed",
      disabled: true,
      status: "disabled",
      providers: [provider],
    });
    expect(r.json.team).toBeUndefined();
  });

  it.each([
    ["unknown field", { name: "x", admin: true }, ""],
    ["missing name", {}, "name"],
    ["bad expiry", { name: "x", expiresAt: "tomorrow" }, "expiresAt"],
    ["bad model pattern", { name: "x", models: ["not a route"] }, "models[0]"],
    ["bad limits", { name: "x", limits: { rpm: -5 } }, "limits.rpm"],
  ])("rejects a key with %s", async (_n, body, param) => {
    const r = await admin("POST", "/keys", body);
    expect(r.status).toBe(400);
    if (param) expect((r.json.error as { param: string }).param).toBe(param);
  });

  it("404s unknown ids on get, patch and delete", async () => {
    for (const [method, body] of [["GET"], ["PATCH", { name: "x" }], ["DELETE"]] as const) {
      expect((await admin(method, "/keys/key_0000000000000000", body)).status).toBe(404);
    }
    expect((await admin("GET", "/keys/not-an-id")).status).toBe(404);
  });

  it("deletes a key from KV and marks it deleted in its Durable Object", async () => {
    const { id, key } = await createKey();
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(200);
    expect(await env.CONFIG.get(`key:${await sha256Hex(key)}`)).toBeNull();
    const state = await env.LIMITER.get(env.LIMITER.idFromName(`key:${id}`)).getConfig();
    expect(state?.status).toBe("deleted");
  });
});
