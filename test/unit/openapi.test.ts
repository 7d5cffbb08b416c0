import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { PUBLIC_PATH_PREFIXES, openApiDocument } from "../../src/openapi";

/** /openapi.json: valid OpenAPI 3.1, built from the zod schemas, and listing exactly the app's routes. */

type PathItem = Record<string, unknown> & { servers?: Array<{ url: string }> };
const doc = openApiDocument() as {
  openapi: string;
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, { required?: string[]; additionalProperties?: unknown }> };
};
const METHODS = ["get", "head", "put", "post", "patch", "delete"];

/** `METHOD /full/path` for every operation the document describes, server prefixes applied. */
function documented(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const prefixes = item.servers?.map((s) => s.url) ?? [""];
    for (const method of METHODS.filter((m) => m in item)) {
      for (const prefix of prefixes) out.push(`${method.toUpperCase()} ${prefix}${path}`);
    }
  }
  return out.sort();
}

/** The app's own routes, in OpenAPI's path syntax (`:name` → `{name}`, `:id{.+}` → `{id}`). */
function served(): string[] {
  const routes = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(doc.openapi).toBe("3.1.0");
  });

  it("describes every route the app serves, and nothing it does not", () => {
    expect(served().length).toBeGreaterThan(30);
    expect(documented()).toEqual(served());
  });

  it("serves the public routes under each prefix", () => {
    expect(doc.paths["/chat/completions"]?.servers?.map((s) => s.url)).toEqual([...PUBLIC_PATH_PREFIXES]);
  });

  it("takes its schemas from the validating zod schemas: strict where the API is strict, loose where it forwards", () => {
    const { Provider, KeyCreate, ConfigDocument, ChatCompletionsRequest } = doc.components.schemas;
    expect(Provider?.additionalProperties).toBe(false);
    expect(Provider?.required).toEqual(["format", "baseUrl", "auth"]);
    expect(KeyCreate?.required).toEqual(["name"]);
    expect(ConfigDocument?.additionalProperties).toBe(false);
    // Unknown fields are forwarded upstream, so the document must not forbid them; the gateway itself
    // requires only what it reads (the model), the upstream judges the rest.
    expect(ChatCompletionsRequest?.additionalProperties).toEqual({});
    expect(ChatCompletionsRequest?.required).toEqual(["model"]);
  });
});
