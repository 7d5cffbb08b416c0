import { describe, expect, it } from "vitest";
import { KeyRecord, Provider } from "../../src/config/schemas";
import { modelAllowed, splitModel } from "../../src/config/resolve";

const base = { format: "openai", auth: { type: "none" } } as const;

describe("Provider schema", () => {
  it.each([
    ["https://ws.ai-gateway.cloud.databricks.com/mlflow", true],
    ["http://127.0.0.1:8788/mlflow", true],
    ["http://127.1.2.3/x", true],
    ["http://localhost:1/x", true],
    ["http://[::1]:1/x", true],
    ["http://10.0.0.1/x", false],
    ["http://localhost.evil.com/x", false],
    ["http://127.0.0.1.nip.io/x", false],
    ["ftp://127.0.0.1/x", false],
    ["https://x.example.com/x?token=1", false],
    ["not a url", false],
  ])("baseUrl %s → valid %s", (baseUrl, ok) => {
    expect(Provider.safeParse({ ...base, baseUrl }).success).toBe(ok);
  });

  it("rejects unknown fields at every level", () => {
    expect(Provider.safeParse({ ...base, baseUrl: "https://x.example.com", typo: 1 }).success).toBe(false);
    expect(
      Provider.safeParse({
        ...base,
        baseUrl: "https://x.example.com",
        pricing: { m: { inputPerMTok: 1, outputPerMTok: 2, x: 1 } },
      }).success,
    ).toBe(false);
  });
});

describe("Provider passthrough shaping", () => {
  const provider = { ...base, baseUrl: "https://x.example.com" };
  it.each([
    [{ removeBetas: ["context-management-2025-06-27", "prompt-caching-scope-*"] }, true],
    [{ removeFields: ["context_management", "cache_control.scope", "a.b.c"] }, true],
    [{}, true],
    [{ removeBetas: ["two words"] }, false],
    [{ removeBetas: ["*"] }, false],
    [{ removeBetas: ["a*b"] }, false],
    [{ removeFields: [".scope"] }, false],
    [{ removeFields: ["a..b"] }, false],
    [{ removeFields: ["a.b.c.d.e.f.g.h.i"] }, false],
    [{ removeFields: ["x"], unknown: 1 }, false],
  ])("%j → valid %s", (passthrough, ok) => {
    expect(Provider.safeParse({ ...provider, passthrough }).success).toBe(ok);
  });
});

describe("model strings", () => {
  it("splits at the first slash so model names may contain more", () => {
    expect(splitModel("db/org/model-v1")).toEqual({ providerName: "db", model: "org/model-v1" });
    expect(splitModel("nomodel")).toBeNull();
    expect(splitModel("/m")).toBeNull();
    expect(splitModel("p/")).toBeNull();
  });

  const key = (over: Partial<KeyRecord>): KeyRecord => ({
    id: "key_0123456789abcdef",
    name: "k",
    preview: "bl-abcd…",
    createdAt: "2026-01-01T00:00:00Z",
    disabled: false,
    ...over,
  });

  it("applies provider and model allowlists together", () => {
    expect(modelAllowed(key({}), "a", "m")).toBe(true);
    expect(modelAllowed(key({ providers: ["a"] }), "b", "m")).toBe(false);
    expect(modelAllowed(key({ models: ["a/m"] }), "a", "m")).toBe(true);
    expect(modelAllowed(key({ models: ["a/m"] }), "a", "n")).toBe(false);
    expect(modelAllowed(key({ models: ["a/*"] }), "a", "anything/else")).toBe(true);
    expect(modelAllowed(key({ providers: ["b"], models: ["a/*"] }), "a", "m")).toBe(false);
  });
});
