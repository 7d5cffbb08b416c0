import { describe, expect, it } from "vitest";
import { admin, createKey, emulatorUrl, putProvider, uniqueName } from "./helpers";

/** References between providers, teams, routes and keys are checked on write; doubtful settings warn. */

type ErrorBody = {
  error: { message: string; param: string | null; issues?: Array<{ path: string; message: string }> };
};
const errorOf = (json: unknown) => (json as ErrorBody).error;

async function putTeam(name: string, body: object = {}) {
  const r = await admin("PUT", `/teams/${name}`, body);
  expect(r.status).toBe(200);
  return r;
}

describe("references on write", () => {
  it("refuses a key for a team that does not exist, listing every missing reference", async () => {
    const real = uniqueName();
    await putProvider(real);
    const r = await admin("POST", "/keys", {
      name: "typo",
      team: "ml-tem",
      providers: [real, "ghost"],
      models: [`nowhere/m`, "no-such-route", `${real}/ok`],
    });
    expect(r.status).toBe(400);
    const error = errorOf(r.json);
    expect(error.issues).toEqual([
      { path: "team", message: "no team named 'ml-tem'" },
      { path: "providers[1]", message: "no provider named 'ghost'" },
      { path: "models[0]", message: "no provider named 'nowhere'" },
      { path: "models[1]", message: "no route named 'no-such-route'" },
    ]);
    expect(error.param).toBe("team");
    expect(error.message).toContain("'team': no team named 'ml-tem'");
    expect(error.message).toContain("'models[1]': no route named 'no-such-route'");
    // Nothing was created.
    const keys = (await admin("GET", "/keys")).json.data as Array<{ name: string }>;
    expect(keys.some((k) => k.name === "typo")).toBe(false);
  });

  it("checks what a PATCH names, and accepts the key once the team exists", async () => {
    const { id } = await createKey();
    const team = uniqueName("t");
    const refused = await admin("PATCH", `/keys/${id}`, { team });
    expect(refused.status).toBe(400);
    expect(errorOf(refused.json).issues).toEqual([{ path: "team", message: `no team named '${team}'` }]);
    await putTeam(team);
    const ok = await admin("PATCH", `/keys/${id}`, { team });
    expect(ok.status).toBe(200);
    expect(ok.json.team).toBe(team);
  });

  it("refuses a route to a provider that does not exist, destinations and fallbacks alike", async () => {
    const real = uniqueName();
    await putProvider(real);
    const r = await admin("PUT", `/routes/${uniqueName("r")}`, {
      destinations: [
        { provider: real, model: "m" },
        { provider: "ghost", model: "m" },
      ],
      fallbacks: [{ provider: "ghost2", model: "m" }],
    });
    expect(r.status).toBe(400);
    expect(errorOf(r.json).issues).toEqual([
      { path: "destinations[1].provider", message: "no provider named 'ghost'" },
      { path: "fallbacks[0].provider", message: "no provider named 'ghost2'" },
    ]);
  });

  it("lists every schema problem, not only the first", async () => {
    const r = await admin("PUT", `/providers/${uniqueName()}`, {
      format: "gemini",
      baseUrl: "https://ws.example.com/v1",
      auth: { type: "bearer" },
      timeoutMs: -1,
    });
    expect(r.status).toBe(400);
    const paths = (errorOf(r.json).issues ?? []).map((i) => i.path).sort();
    expect(paths).toEqual(["auth.secret", "baseUrl", "format", "timeoutMs"]);
    expect(errorOf(r.json).message).toMatch(/^Invalid request body: .*'format'.*'timeoutMs'/);
  });

  it("answers a baseUrl ending in /v1 with 400 and the hint", async () => {
    for (const baseUrl of [`${emulatorUrl()}/mlflow/v1`, "https://ws.example.com/v1/"]) {
      const r = await admin("PUT", `/providers/${uniqueName()}`, {
        format: "openai",
        baseUrl,
        auth: { type: "none" },
      });
      expect(r.status).toBe(400);
      expect(errorOf(r.json).param).toBe("baseUrl");
      expect(errorOf(r.json).message).toContain("appends /v1/chat/completions");
    }
  });
});

describe("deleting what is still used", () => {
  it("answers 409 for a provider a route and a key use, naming them, and deletes it once free", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const route = uniqueName("r");
    expect(
      (await admin("PUT", `/routes/${route}`, { destinations: [{ provider, model: "m" }] })).status,
    ).toBe(200);
    const { id } = await createKey({ name: "uses-it", providers: [provider] });

    const r = await admin("DELETE", `/providers/${provider}`);
    expect(r.status).toBe(409);
    const error = errorOf(r.json);
    expect(error.message).toContain(`route '${route}'`);
    expect(error.message).toContain(`key 'uses-it' (${id})`);
    expect(error.issues).toEqual([
      { path: `routes.${route}.destinations[0].provider`, message: `uses Provider '${provider}'` },
      { path: "keys.uses-it.providers[0]", message: `uses Provider '${provider}'` },
    ]);
    // Still there and still serving.
    expect((await admin("GET", `/providers/${provider}`)).status).toBe(200);

    expect((await admin("DELETE", `/routes/${route}`)).status).toBe(200);
    expect((await admin("DELETE", `/keys/${id}`)).status).toBe(200);
    expect((await admin("DELETE", `/providers/${provider}`)).status).toBe(200);
  });

  it("answers 409 for a team its keys name, and for a route a key's models name", async () => {
    const team = uniqueName("t");
    await putTeam(team);
    const provider = uniqueName();
    await putProvider(provider);
    const route = uniqueName("r");
    await admin("PUT", `/routes/${route}`, { destinations: [{ provider, model: "m" }] });
    const { id } = await createKey({ name: "member", team, models: [route] });

    const t = await admin("DELETE", `/teams/${team}`);
    expect(t.status).toBe(409);
    expect(errorOf(t.json).message).toContain(`key 'member' (${id})`);
    const rt = await admin("DELETE", `/routes/${route}`);
    expect(rt.status).toBe(409);
    expect(errorOf(rt.json).issues).toEqual([
      { path: "keys.member.models[0]", message: `uses Route '${route}'` },
    ]);

    expect((await admin("PATCH", `/keys/${id}`, { team: null, models: null })).status).toBe(200);
    expect((await admin("DELETE", `/teams/${team}`)).status).toBe(200);
    expect((await admin("DELETE", `/routes/${route}`)).status).toBe(200);
  });
});

describe("warnings", () => {
  it("warns of a key budget through providers without pricing, and not when priced", async () => {
    const unpriced = uniqueName();
    const priced = uniqueName();
    await putProvider(unpriced);
    await putProvider(priced, { pricing: { m: { inputPerMTok: 1, outputPerMTok: 2 } } });
    const budget = { budget: { usd: 5, period: "day" } };

    const warned = await admin("POST", "/keys", { name: "w", providers: [unpriced, priced], limits: budget });
    expect(warned.status).toBe(201);
    expect(warned.json.warnings).toEqual([
      `The key has a budget, but provider '${unpriced}' has no pricing: calls through it cost $0 and never count against the budget.`,
    ]);

    const quiet = await admin("POST", "/keys", { name: "q", providers: [priced], limits: budget });
    expect(quiet.status).toBe(201);
    expect(quiet.json.warnings).toBeUndefined();

    const patched = await admin("PATCH", `/keys/${String(quiet.json.id)}`, { providers: [unpriced] });
    expect(patched.json.warnings).toHaveLength(1);
  });

  it("warns of a team budget its keys' unpriced providers cannot spend", async () => {
    const unpriced = uniqueName();
    await putProvider(unpriced);
    const team = uniqueName("t");
    await putTeam(team);
    await createKey({ team, providers: [unpriced] });
    const r = await putTeam(team, { limits: { budget: { usd: 5, period: "month" } } });
    expect(r.json.warnings).toEqual([
      `Team '${team}' has a budget, but provider '${unpriced}' has no pricing: calls through it cost $0 and never count against the budget.`,
    ]);
  });

  it("warns of a provider naming a secret that is not set, and saves it", async () => {
    const name = uniqueName();
    const r = await admin("PUT", `/providers/${name}`, {
      format: "openai",
      baseUrl: `${emulatorUrl()}/mlflow`,
      auth: { type: "bearer", secret: "NOT_SET_ANYWHERE" },
    });
    expect(r.status).toBe(200);
    expect(r.json.warnings).toEqual([
      expect.stringContaining("names the secret 'NOT_SET_ANYWHERE', which is not set"),
    ]);
    expect((await admin("GET", `/providers/${name}`)).status).toBe(200);
    const ok = await admin("PUT", `/providers/${name}`, {
      format: "openai",
      baseUrl: `${emulatorUrl()}/mlflow`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    });
    expect(ok.json.warnings).toBeUndefined();
  });
});
