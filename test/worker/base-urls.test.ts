import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, PAT } from "./helpers";

/**
 * Claude Code sends a bodiless GET or HEAD to its base URL before any API call. Every base URL a client
 * may be given answers it with 200, without a key and without saying anything about the configuration.
 */

const BASE_URLS = ["/", "/v1", "/openai/v1", "/anthropic", "/anthropic/v1"];

describe("base URLs", () => {
  it.each(BASE_URLS)("GET %s answers 200 without a key", async (path) => {
    const res = await SELF.fetch(`http://gateway.test${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/\S+/);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ ok: true, name: "bricklane" });
    for (const secret of [PAT, ADMIN_TOKEN]) expect(text).not.toContain(secret);
  });

  it.each(BASE_URLS)("HEAD %s answers 200 with no body", async (path) => {
    const res = await SELF.fetch(`http://gateway.test${path}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("the API under them still needs a key, and other methods on them are not routes", async () => {
    expect((await SELF.fetch("http://gateway.test/v1/models")).status).toBe(401);
    const anthropic = await SELF.fetch("http://gateway.test/anthropic/v1/models");
    expect(anthropic.status).toBe(401);
    expect(((await anthropic.json()) as { type: string }).type).toBe("error");
    const post = await SELF.fetch("http://gateway.test/v1", { method: "POST", body: "{}" });
    expect(post.status).toBeGreaterThanOrEqual(400);
    expect(post.status).toBeLessThan(500);
  });
});
