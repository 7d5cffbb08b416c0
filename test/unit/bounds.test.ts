import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, headerValue, modelProblem, tooDeep } from "../../src/formats/bounds";

/** Nesting depth of a parsed value, without recursion (the top-level object or array is depth 1). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() ?? [null, 0];
    if (typeof v !== "object" || v === null) continue;
    max = Math.max(max, d);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

describe("tooDeep", () => {
  it("agrees with the parsed value's depth, whatever the JSON (strings full of brackets and escapes included)", () => {
    const tricky = fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", ",", ":", "a") });
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.oneof(fc.integer(), tricky, fc.boolean(), fc.constant(null)),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(tricky, tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 6 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(tooDeep(text, max) !== null).toBe(depthOf(value) > max);
      }),
      { seed: 5, numRuns: 5000 },
    );
  });

  it("names the top-level field the deep part sits under", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), fc.integer({ min: 0, max: 8 })), { minLength: 1, maxLength: 5 }),
        (fields) => {
          const body: Record<string, unknown> = {};
          for (const [name, depth] of fields) {
            let v: unknown = "x";
            for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
            body[name] = v;
          }
          const max = 5;
          // The first field (in the text's order) whose value takes the body past `max`.
          const first = Object.entries(body).find(([, v]) => depthOf(v) + 1 > max);
          const found = tooDeep(JSON.stringify(body), max);
          expect(found?.field ?? null).toBe(first ? first[0] : null);
          if (first) expect(found).not.toBeNull();
        },
      ),
      { seed: 6, numRuns: 2000 },
    );
  });

  it("takes absurd nesting without recursion, and accepts what real clients send", () => {
    expect(tooDeep("[".repeat(1_000_000) + "]".repeat(1_000_000))).toEqual({ field: null });
    expect(tooDeep(`{"tools":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`)).toEqual({ field: "tools" });
    const schema = { type: "object", properties: { a: { type: "array", items: { type: "object" } } } };
    let deepish: unknown = schema;
    for (let i = 0; i < 20; i++) deepish = { type: "object", properties: { nested: deepish } };
    expect(tooDeep(JSON.stringify({ tools: [{ input_schema: deepish }] }))).toBeNull();
    expect(MAX_JSON_DEPTH).toBeGreaterThanOrEqual(64);
  });
});

/** Any UTF-16 code unit, lone surrogates and controls included, often ASCII and '/'. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
  fc.constantFrom("/", "a", "-", "\r", "\n", "\u0000"),
);

describe("modelProblem", () => {
  it("accepts model strings real clients send", () => {
    for (const m of [
      "databricks/databricks-claude-sonnet-4",
      "databricks-native/databricks-claude-sonnet-4-5",
      "p/models/gpt-4o",
      "claude",
      "p/modèle-é",
      "p/" + "m".repeat(200),
    ]) {
      expect(modelProblem(m)).toBeNull();
    }
  });

  it("refuses what breaks headers, KV keys and logs", () => {
    for (const m of [
      "x".repeat(257),
      `${"p".repeat(600)}/m`,
      "p/m\u0000",
      "p/m\r\nx-evil: 1",
      "p/\ud800",
      "\udfff/m",
      "p/m\u0085",
      "p q/m",
      "p\u00e9/m",
    ]) {
      expect(modelProblem(m)).not.toBeNull();
    }
  });

  it("whatever it accepts is safe in a header once passed through headerValue", () => {
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 80 }), (m) => {
        if (modelProblem(m) !== null) return;
        expect(() => new Headers({ "x-bricklane-model": headerValue(m) })).not.toThrow();
        expect(headerValue(m)).toMatch(/^[\x20-\x7e]*$/);
      }),
      { seed: 8, numRuns: 5000 },
    );
  });
});
