import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../tools/emulator/emulator.mjs";

const CLIENT_ID = "unit-sp";
const CLIENT_SECRET = "unit-sp-secret";
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({
    pat: "dapi-unit",
    oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
  });
});
afterAll(async () => {
  await emu.close();
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

function tokenRequest(
  authorization = basic(CLIENT_ID, CLIENT_SECRET),
  body = "grant_type=client_credentials&scope=all-apis",
) {
  return fetch(`${emu.url}/oidc/v1/token`, {
    method: "POST",
    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

const chatWith = (authorization: string) =>
  fetch(`${emu.url}/mlflow/v1/chat/completions`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
  });

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.url}/__emulator/${path}`, {
    method,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("emulator: OAuth M2M token endpoint", () => {
  it("issues an hour-long bearer token for the service principal, which the API endpoints accept", async () => {
    const res = await tokenRequest();
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(answer).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "all-apis" });
    expect((await chatWith(`Bearer ${answer.access_token}`)).status).toBe(200);
    expect((await chatWith("Bearer emu-oauth-made-up")).status).toBe(401);
    const recorded = emu.requests.find((r) => r.path === "/oidc/v1/token");
    expect(recorded?.body).toEqual({ grant_type: "client_credentials", scope: "all-apis" });
  });

  it("refuses a wrong secret, an unknown client, no credentials, another grant or scope", async () => {
    expect((await tokenRequest(basic(CLIENT_ID, "wrong"))).status).toBe(401);
    expect((await tokenRequest(basic("someone", CLIENT_SECRET))).status).toBe(401);
    const none = await tokenRequest("");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: "invalid_client" });
    expect((await tokenRequest(undefined, "grant_type=password&scope=all-apis")).status).toBe(400);
    expect((await tokenRequest(undefined, "grant_type=client_credentials&scope=sql")).status).toBe(400);
  });

  it("short lifetimes are selectable: a zero-second token is refused at once", async () => {
    expect((await control("PUT", "oauth", { lifetimeS: 0 })).json).toMatchObject({ lifetimeS: 0 });
    try {
      const answer = (await (await tokenRequest()).json()) as { access_token: string; expires_in: number };
      expect(answer.expires_in).toBe(0);
      expect((await chatWith(`Bearer ${answer.access_token}`)).status).toBe(401);
    } finally {
      await control("PUT", "oauth", { lifetimeS: 3600 });
    }
  });

  it("revoking makes every issued token fail, as a rotated secret or an expiry would", async () => {
    const answer = (await (await tokenRequest()).json()) as { access_token: string };
    expect((await chatWith(`Bearer ${answer.access_token}`)).status).toBe(200);
    const revoked = await control("POST", "oauth/revoke");
    expect(revoked.json.revoked).toBeGreaterThanOrEqual(1);
    expect((await chatWith(`Bearer ${answer.access_token}`)).status).toBe(401);
  });

  it("the token endpoint can be told to fail, and settings are validated", async () => {
    await control("PUT", "oauth", { failStatus: 503 });
    try {
      expect((await tokenRequest()).status).toBe(503);
    } finally {
      await control("PUT", "oauth", { failStatus: null });
    }
    expect((await tokenRequest()).status).toBe(200);
    expect((await control("PUT", "oauth", { lifetimeS: -1 })).status).toBe(400);
    expect((await control("PUT", "oauth", { failStatus: 200 })).status).toBe(400);
    expect((await control("PUT", "oauth", { lifetime: 5 })).status).toBe(400);
    expect((await control("GET", "oauth")).json).toMatchObject({ lifetimeS: 3600, failStatus: null });
  });
});
