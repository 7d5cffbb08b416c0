import { describe, expect, it } from "vitest";
import { PAT, admin, anthropicFormat, putProvider, uniqueName } from "./helpers";

/** POST /admin/providers/:name/test: one small call, or the listed models, and what came back. */
describe("provider test", () => {
  it("makes one small call to an openai provider and shows the reply", async () => {
    const name = uniqueName();
    await putProvider(name);
    const r = await admin("POST", `/providers/${name}/test`, { model: "databricks-claude-sonnet-4" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      provider: name,
      model: "databricks-claude-sonnet-4",
      ok: true,
      status: 200,
    });
    expect(typeof r.json.reply).toBe("string");
    expect(String(r.json.reply).length).toBeGreaterThan(0);
  });

  it("speaks Messages to an anthropic provider", async () => {
    const name = uniqueName();
    await putProvider(name, anthropicFormat());
    const r = await admin("POST", `/providers/${name}/test`, { model: "databricks-claude-sonnet-4" });
    expect(r.json).toMatchObject({ ok: true, status: 200 });
    expect(typeof r.json.reply).toBe("string");
  });

  it("shows an upstream failure as the test's result, without the secret", async () => {
    const name = uniqueName();
    await putProvider(name, { headers: { "x-emulator-fault": "status=503" } });
    const r = await admin("POST", `/providers/${name}/test`, { model: "m" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: false, status: 503 });
    expect(JSON.stringify(r.json)).not.toContain(PAT);
  });

  it("without a model, lists the provider's models, or says it has none to list", async () => {
    const listed = uniqueName();
    await putProvider(listed, { models: ["a", "b"] });
    const r = await admin("POST", `/providers/${listed}/test`);
    expect(r.json).toMatchObject({ ok: true, models: ["a", "b"] });

    const bare = uniqueName();
    await putProvider(bare);
    const none = await admin("POST", `/providers/${bare}/test`, {});
    expect(none.json).toMatchObject({ ok: false, models: [] });
    expect(String(none.json.error)).toContain("Name a model");
  });

  it("404s an unknown provider and 400s an unknown field", async () => {
    expect((await admin("POST", `/providers/${uniqueName()}/test`, { model: "m" })).status).toBe(404);
    const name = uniqueName();
    await putProvider(name);
    expect((await admin("POST", `/providers/${name}/test`, { model: "m", stream: true })).status).toBe(400);
  });
});
