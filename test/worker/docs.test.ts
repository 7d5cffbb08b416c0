import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("API description", () => {
  it("serves /openapi.json without auth", async () => {
    const res = await SELF.fetch("http://gateway.test/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/admin/config");
  });

  it("serves the interactive reference at /docs, pointed at /openapi.json", async () => {
    const res = await SELF.fetch("http://gateway.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).toContain("<title>Bricklane API</title>");
  });
});
