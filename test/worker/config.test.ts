import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, chat, createKey, emulatorUrl, uniqueName, userMessage, type Json } from "./helpers";

/** Configuration as code: GET/PUT /admin/config. */

type Change = { kind: string; name: string; action: string; fields?: string[]; id?: string; key?: string };
type Applied = { dryRun: boolean; prune: boolean; changes: Change[]; warnings?: string[] };

async function put(doc: unknown, query = "") {
  const r = await admin("PUT", `/config${query}`, doc);
  return { status: r.status, body: r.json as unknown as Applied, json: r.json };
}

const exported = async () => {
  const r = await admin("GET", "/config");
  expect(r.status).toBe(200);
  return r.json as { providers: Json; teams: Json; routes: Json; keys: Json };
};

function documentFor(suffix: string) {
  const provider = `p-${suffix}`;
  const team = `t-${suffix}`;
  const route = `r-${suffix}`;
  const keyName = `k-${suffix}`;
  return {
    names: { provider, team, route, keyName },
    doc: {
      providers: {
        [provider]: {
          format: "openai",
          baseUrl: `${emulatorUrl()}/mlflow`,
          auth: { type: "bearer", secret: "DATABRICKS_PAT" },
          pricing: { m: { inputPerMTok: 1, outputPerMTok: 2 } },
        },
      },
      teams: { [team]: { limits: { rpm: 100 }, description: "from a file" } },
      routes: { [route]: { destinations: [{ provider, model: "m" }] } },
      keys: {
        [keyName]: { team, providers: [provider], models: [route, `${provider}/*`], limits: { rpm: 50 } },
      },
    },
  };
}

describe("PUT /admin/config", () => {
  it("dry run answers the changes and applies nothing; the real run applies them once", async () => {
    const { names, doc } = documentFor(uniqueName("a"));

    const dry = await put(doc, "?dryRun=true");
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.changes).toEqual([
      { kind: "provider", name: names.provider, action: "create" },
      { kind: "team", name: names.team, action: "create" },
      { kind: "route", name: names.route, action: "create" },
      { kind: "key", name: names.keyName, action: "create" },
    ]);
    expect((await admin("GET", `/providers/${names.provider}`)).status).toBe(404);
    expect(Object.keys((await exported()).keys)).not.toContain(names.keyName);

    const real = await put(doc);
    expect(real.status).toBe(200);
    expect(real.body.dryRun).toBe(false);
    const created = real.body.changes.find((ch) => ch.kind === "key");
    expect(created?.key).toMatch(/^bl-/);
    expect(created?.id).toMatch(/^key_/);
    // The new key works, through the route the document made.
    const res = await chat(created?.key ?? "", { model: names.route, messages: userMessage() });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-provider")).toBe(names.provider);

    const again = await put(doc);
    expect(again.status).toBe(200);
    expect(again.body.changes).toEqual([]);
    expect(JSON.stringify(again.json)).not.toContain(created?.key ?? "none");
    // Nothing doubled: still one key of that name.
    const keys = (await admin("GET", "/keys")).json.data as Array<{ name: string; id: string }>;
    expect(keys.filter((k) => k.name === names.keyName).map((k) => k.id)).toEqual([created?.id]);
  });

  it("exports what it applied, and applying the export changes nothing", async () => {
    const { names, doc } = documentFor(uniqueName("b"));
    expect((await put(doc)).status).toBe(200);
    const out = await exported();
    expect(out.providers[names.provider]).toEqual(doc.providers[names.provider]);
    expect(out.teams[names.team]).toEqual(doc.teams[names.team]);
    expect(out.routes[names.route]).toEqual(doc.routes[names.route]);
    expect(out.keys[names.keyName]).toEqual(doc.keys[names.keyName]);
    expect(JSON.stringify(out)).not.toMatch(/"(hash|preview|key)"|bl-/);

    const twice = await put(out, "?prune=true");
    expect(twice.status).toBe(200);
    expect(twice.body.changes).toEqual([]);
  });

  it("updates in place, naming the fields; the key keeps its id and secret", async () => {
    const { names, doc } = documentFor(uniqueName("c"));
    const first = await put(doc);
    const key = first.body.changes.find((ch) => ch.kind === "key")?.key ?? "";
    const provider = { ...doc.providers[names.provider], timeoutMs: 5000 };
    const settings = { ...doc.keys[names.keyName], limits: { rpm: 7 }, disabled: true };
    const next = {
      providers: { [names.provider]: provider },
      keys: { [names.keyName]: settings },
    };
    const r = await put(next);
    expect(r.status).toBe(200);
    expect(r.body.changes).toEqual([
      { kind: "provider", name: names.provider, action: "update", fields: ["timeoutMs"] },
      {
        kind: "key",
        name: names.keyName,
        action: "update",
        fields: ["disabled", "limits"],
        id: expect.any(String),
      },
    ]);
    expect((await admin("GET", `/providers/${names.provider}`)).json.timeoutMs).toBe(5000);
    // Disabled by the document: refused at once.
    expect((await chat(key, { model: names.route, messages: userMessage() })).status).toBe(401);
    // `disabled: false` and leaving it out say the same; enabling again brings the same secret back.
    const enabled = await put({ keys: { [names.keyName]: { ...settings, disabled: false } } });
    expect(enabled.body.changes).toEqual([
      { kind: "key", name: names.keyName, action: "update", fields: ["disabled"], id: expect.any(String) },
    ]);
    expect(
      (await put({ keys: { [names.keyName]: { ...settings, disabled: undefined } } })).body.changes,
    ).toEqual([]);
    expect((await chat(key, { model: names.route, messages: userMessage() })).status).toBe(200);
  });

  it("deletes nothing without prune; with prune, only in the sections the document has", async () => {
    const { names, doc } = documentFor(uniqueName("d"));
    expect((await put(doc)).status).toBe(200);
    const extraRoute = uniqueName("r");
    expect(
      (
        await admin("PUT", `/routes/${extraRoute}`, {
          destinations: [{ provider: names.provider, model: "x" }],
        })
      ).status,
    ).toBe(200);
    const all = await exported();
    const { [extraRoute]: _gone, ...routesLeft } = all.routes;

    const kept = await put({ routes: routesLeft });
    expect(kept.body.changes).toEqual([]);
    expect((await admin("GET", `/routes/${extraRoute}`)).status).toBe(200);

    const dry = await put({ routes: routesLeft }, "?prune=true&dryRun=true");
    expect(dry.body.changes).toEqual([{ kind: "route", name: extraRoute, action: "delete" }]);
    expect((await admin("GET", `/routes/${extraRoute}`)).status).toBe(200);

    const pruned = await put({ routes: routesLeft }, "?prune=true");
    expect(pruned.body.changes).toEqual([{ kind: "route", name: extraRoute, action: "delete" }]);
    expect((await admin("GET", `/routes/${extraRoute}`)).status).toBe(404);
    // No providers, teams or keys section: none of them touched.
    expect((await exported()).keys).toEqual(all.keys);
    expect((await exported()).providers).toEqual(all.providers);
  });

  it("refuses a document with dangling references, listing each at its path, and applies none of it", async () => {
    const suffix = uniqueName("e");
    const r = await put({
      providers: {
        [`ok-${suffix}`]: {
          format: "openai",
          baseUrl: "https://ws.example.com/mlflow",
          auth: { type: "none" },
        },
      },
      routes: { [`r-${suffix}`]: { destinations: [{ provider: "ghost", model: "m" }] } },
      keys: { [`k-${suffix}`]: { team: "ml-tem", providers: [`ok-${suffix}`], models: ["nowhere/m"] } },
    });
    expect(r.status).toBe(400);
    expect((r.json.error as { issues: unknown }).issues).toEqual([
      { path: `routes.r-${suffix}.destinations[0].provider`, message: "no provider named 'ghost'" },
      { path: `keys.k-${suffix}.team`, message: "no team named 'ml-tem'" },
      { path: `keys.k-${suffix}.models[0]`, message: "no provider named 'nowhere'" },
    ]);
    expect((await admin("GET", `/providers/ok-${suffix}`)).status).toBe(404);
  });

  it("refuses to prune a provider that something it keeps still uses", async () => {
    const { names, doc } = documentFor(uniqueName("f"));
    expect((await put(doc)).status).toBe(200);
    const { [names.provider]: _dropped, ...otherProviders } = (await exported()).providers;
    const r = await put({ providers: otherProviders }, "?prune=true");
    expect(r.status).toBe(400);
    const paths = (r.json.error as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        `routes.${names.route}.destinations[0].provider`,
        `keys.${names.keyName}.providers[0]`,
        `keys.${names.keyName}.models[1]`,
      ]),
    );
    expect((await admin("GET", `/providers/${names.provider}`)).status).toBe(200);
  });

  it("validates the document strictly, listing every problem", async () => {
    const r = await put({
      providers: {
        "bad name": { format: "openai" },
        v1: { format: "openai", baseUrl: "https://ws.example.com/mlflow/v1", auth: { type: "none" } },
      },
      keys: { k: { id: "key_0000000000000000", limits: { rpm: -1 } } },
      extra: true,
    });
    expect(r.status).toBe(400);
    const paths = (r.json.error as { issues: Array<{ path: string }> }).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "",
        "providers.bad name",
        "providers.v1.baseUrl",
        "keys.k",
        "keys.k.limits.rpm",
      ]),
    );
    expect((await put({}, "?dryRun=yes")).status).toBe(400);
  });

  it("warns in the answer, dry run included", async () => {
    const suffix = uniqueName("g");
    const r = await put(
      {
        providers: {
          [`p-${suffix}`]: {
            format: "openai",
            baseUrl: "https://ws.example.com/mlflow",
            auth: { type: "bearer", secret: "UNSET_SECRET" },
          },
        },
        keys: {
          [`k-${suffix}`]: { providers: [`p-${suffix}`], limits: { budget: { usd: 1, period: "day" } } },
        },
      },
      "?dryRun=true",
    );
    expect(r.status).toBe(200);
    expect(r.body.warnings).toEqual([
      expect.stringContaining("names the secret 'UNSET_SECRET', which is not set"),
      `Key 'k-${suffix}' has a budget, but provider 'p-${suffix}' has no pricing: calls through it cost $0 and never count against the budget.`,
    ]);
  });

  it("answers 409 while two keys share a name, naming their ids", async () => {
    const name = uniqueName("dup");
    const a = await createKey({ name });
    const b = await createKey({ name });
    const got = await SELF.fetch("http://gateway.test/admin/config", {
      headers: { authorization: "Bearer test-admin-token" },
    });
    expect(got.status).toBe(409);
    const text = await got.text();
    expect(text).toContain(a.id);
    expect(text).toContain(b.id);
    expect((await put({ keys: { [name]: {} } })).status).toBe(409);
    // Renamed apart, the export works again.
    expect((await admin("PATCH", `/keys/${b.id}`, { name: `${name}-2` })).status).toBe(200);
    expect((await admin("GET", "/config")).status).toBe(200);
  });
});
