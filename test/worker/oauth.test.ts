import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { observedWorker } from "./call-log-helpers";
import {
  PAT,
  chat,
  createKey,
  emulatorRequests,
  emulatorUrl,
  putProvider,
  uniqueName,
  userMessage,
  type Json,
} from "./helpers";

/** The service principal as vitest.config.ts binds it; the emulator knows this client. */
const OAUTH = {
  type: "databricks-oauth",
  clientId: "DATABRICKS_CLIENT_ID",
  clientSecret: "DATABRICKS_CLIENT_SECRET",
};
const SP_SECRET = "emulator-test-sp-secret";

async function oauthProvider(overrides: Json = {}) {
  const provider = uniqueName();
  await putProvider(provider, { auth: OAUTH, ...overrides });
  const { key } = await createKey();
  return { provider, key, model: `${provider}/m` };
}

async function emulatorOAuth(method: string, path = "", body?: Json): Promise<Json> {
  const res = await fetch(`${emulatorUrl()}/__emulator/oauth${path}`, {
    method,
    ...(body && { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Json;
}

/** Tokens the emulator has issued so far (only this file asks it for any). */
const issued = async () => Number((await emulatorOAuth("GET")).issued);

/** The Authorization headers of the upstream requests a call tagged `marker` made. */
async function upstreamAuth(marker: string): Promise<string[]> {
  return (await emulatorRequests())
    .filter((r) => r.headers["x-trace"] === marker)
    .map((r) => r.headers.authorization ?? "");
}

const traced = (marker: string, extra: Record<string, string> = {}) => ({ "x-trace": marker, ...extra });

describe("OAuth M2M (databricks-oauth) providers", () => {
  it("a burst of calls shares one token, sent as the bearer; never the PAT", async () => {
    const { key, model } = await oauthProvider();
    const before = await issued();
    const marker = crypto.randomUUID();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        chat(key, { model, messages: userMessage() }, traced(marker)).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses).toEqual(Array(20).fill(200));
    expect((await issued()) - before).toBe(1);
    const auths = await upstreamAuth(marker);
    expect(auths).toHaveLength(20);
    expect(new Set(auths).size).toBe(1);
    expect(auths[0]).toMatch(/^Bearer emu-oauth-/);
    expect(auths[0]).not.toContain(PAT);
  });

  it("a token about to expire is not used: a new one is fetched", async () => {
    // 30 s is inside the gateway's one-minute refresh margin, so no such token is reused.
    await emulatorOAuth("PUT", "", { lifetimeS: 30 });
    try {
      const { key, model } = await oauthProvider();
      const before = await issued();
      const marker = crypto.randomUUID();
      for (let i = 0; i < 2; i++) {
        const res = await chat(key, { model, messages: userMessage() }, traced(marker));
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect((await issued()) - before).toBe(2);
      expect(new Set(await upstreamAuth(marker)).size).toBe(2);
    } finally {
      await emulatorOAuth("PUT", "", { lifetimeS: 3600 });
    }
  });

  it("an hour-long token is reused across calls", async () => {
    const { key, model } = await oauthProvider();
    const before = await issued();
    for (let i = 0; i < 3; i++) {
      const res = await chat(key, { model, messages: userMessage() });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect((await issued()) - before).toBe(1);
  });

  it("a token the upstream refuses (401) is renewed once and the call sent again", async () => {
    const { key, model } = await oauthProvider();
    const first = await chat(key, { model, messages: userMessage() });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    // Every token the emulator issued stops working, as after a rotation or an early expiry.
    await emulatorOAuth("POST", "/revoke");
    const before = await issued();
    const marker = crypto.randomUUID();
    const res = await chat(key, { model, messages: userMessage() }, traced(marker));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-attempts")).toBe("1");
    await res.arrayBuffer();
    expect((await issued()) - before).toBe(1);
    const [stale, fresh] = await upstreamAuth(marker);
    expect(stale).toMatch(/^Bearer emu-oauth-/);
    expect(fresh).toMatch(/^Bearer emu-oauth-/);
    expect(fresh).not.toBe(stale);
  });

  it("an upstream that keeps answering 401 gets one renewal, then the client gets a 502 naming the provider", async () => {
    const { key, model, provider } = await oauthProvider();
    const before = await issued();
    const marker = crypto.randomUUID();
    const res = await chat(
      key,
      { model, messages: userMessage() },
      traced(marker, { "x-emulator-fault": "status=401" }),
    );
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`'${provider}'`);
    expect(await upstreamAuth(marker)).toHaveLength(2);
    expect((await issued()) - before).toBe(2);
  });

  it("a token endpoint that refuses the client: 502 naming the provider, nothing sent upstream", async () => {
    const { key, model, provider } = await oauthProvider({
      auth: { ...OAUTH, clientSecret: "WRONG_CLIENT_SECRET" },
    });
    const marker = crypto.randomUUID();
    const res = await chat(key, { model, messages: userMessage() }, traced(marker));
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).toContain(`Provider '${provider}' could not get an OAuth token`);
    expect(text).not.toContain("not-the-sp-secret");
    expect(await upstreamAuth(marker)).toEqual([]);
  });

  it("a token endpoint that is down or unreachable: 502", async () => {
    await emulatorOAuth("PUT", "", { failStatus: 503 });
    try {
      const { key, model } = await oauthProvider();
      const res = await chat(key, { model, messages: userMessage() });
      expect(res.status).toBe(502);
      expect(await res.text()).toContain("token endpoint answered HTTP 503");
    } finally {
      await emulatorOAuth("PUT", "", { failStatus: null });
    }
    // tokenUrl overrides the default; nothing listens on port 1.
    const { key, model } = await oauthProvider({
      auth: { ...OAUTH, tokenUrl: "http://127.0.0.1:1/oidc/v1/token" },
    });
    const res = await chat(key, { model, messages: userMessage() });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("unreachable");
  });

  it("a secret the provider names but the gateway lacks: 500 naming the secret", async () => {
    const { key, model } = await oauthProvider({ auth: { ...OAUTH, clientId: "NO_SUCH_CLIENT_ID" } });
    const res = await chat(key, { model, messages: userMessage() });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("NO_SUCH_CLIENT_ID");
  });

  it("lists Unity Catalog models with the service principal's token", async () => {
    const { key, provider } = await oauthProvider({
      listModelsUrl: `${emulatorUrl()}/api/2.1/unity-catalog/models`,
    });
    const res = await SELF.fetch("http://gateway.test/v1/models", {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-warning")).toBeNull();
    const ids = ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(ids).toContain(`${provider}/databricks-claude-sonnet-4`);
  });
});

describe("the OAuth token and client secret stay secret", () => {
  const logged: string[] = [];
  beforeEach(() => {
    logged.length = 0;
    for (const level of ["log", "error", "warn", "info", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([400, 429, 500])(
    "an upstream %i that echoes the token: not in the answer, the logs or the call log",
    async (status) => {
      const w = observedWorker();
      const { key, model } = await oauthProvider();
      const marker = crypto.randomUUID();
      const { res, settled } = await w.fetch("/v1/chat/completions", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "x-trace": marker,
          "x-emulator-fault": `status=${status};echo_auth=1`,
        },
        body: JSON.stringify({ model, messages: userMessage() }),
      });
      const text = await res.text();
      await settled();
      const [auth] = await upstreamAuth(marker);
      const token = (auth ?? "").replace(/^Bearer /, "");
      expect(token).toMatch(/^emu-oauth-/);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain(token);
      if (status === 400) expect(text).toContain("[redacted]");
      expect(logged.some((l) => l.includes('"msg":"call"'))).toBe(true);
      for (const line of [...logged, JSON.stringify(w.sent)]) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(SP_SECRET);
        expect(line).not.toContain(key);
      }
    },
  );
});
