import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { admin, createKey, putProvider, uniqueName, userMessage } from "./helpers";

/**
 * In a file of its own: the totals read every provider's usage objects, so this file keeps to the two
 * providers it makes.
 */
describe("GET /admin/usage with no selector", () => {
  /** One call through the Worker, returning once its waitUntil work (usage recording) is done. */
  async function callAndSettle(key: string, model: string) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://gateway.test/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: userMessage() }),
      }),
      env,
      ctx,
    );
    expect(res.status).toBe(200);
    await res.text();
    await waitOnExecutionContext(ctx);
  }

  it("gives the gateway's totals: every provider's usage added up", async () => {
    const a = uniqueName();
    const b = uniqueName();
    await putProvider(a);
    await putProvider(b);
    const { key } = await createKey();
    for (const model of [`${a}/m`, `${b}/m`, `${b}/m`]) await callAndSettle(key, model);

    const r = await admin("GET", "/usage");
    expect(r.status).toBe(200);
    expect(r.json.scope).toEqual({ kind: "all" });
    const rows = r.json.data as Array<{ provider: string; requests: number }>;
    const requestsOf = (p: string) =>
      rows.filter((x) => x.provider === p).reduce((n, x) => n + x.requests, 0);
    expect(requestsOf(a)).toBe(1);
    expect(requestsOf(b)).toBe(2);
    const total = r.json.total as { requests: number };
    expect(total.requests).toBe(rows.reduce((n, x) => n + x.requests, 0));
    expect(total.requests).toBeGreaterThanOrEqual(3);

    expect((await admin("GET", `/usage?team=x&provider=${a}`)).status).toBe(400);
  });
});
