import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { translateResponsesRequest } from "../../../src/formats/responses/request";
import { chatRequestToMessages } from "../../../src/formats/translate";
import turn1 from "../../fixtures/clients/codex-0.171.0-turn1-stock.json";
import turn2 from "../../fixtures/clients/codex-0.171.0-turn2-tool-output.json";

/**
 * What clients will add next month must not break translation: random unknown top-level fields, input item
 * types, content part types and roles, added to valid Responses requests (Codex's captured ones among
 * them). Translation never throws (a throw would be a 500), unknown fields change nothing at all, unknown
 * item and part types are dropped and named, and the only refusal is for a role the gateway cannot place.
 * Seeded, so a failure reproduces.
 */

type Json = Record<string, unknown>;
const SEED = 20261128;

const KNOWN_FIELDS = new Set([
  "model",
  "input",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "stream",
  "user",
  "text",
  "reasoning",
  "previous_response_id",
  "conversation",
  "background",
  "prompt",
]);
const KNOWN_ITEMS = new Set([
  "message",
  "function_call",
  "function_call_output",
  "custom_tool_call",
  "custom_tool_call_output",
  "reasoning",
  "additional_tools",
  "item_reference",
]);
const KNOWN_PARTS = new Set(["input_text", "output_text", "text", "refusal", "input_image", "input_file"]);
const KNOWN_ROLES = new Set(["user", "assistant", "system", "developer"]);

const bases: Json[] = [
  turn1.body,
  turn2.body,
  {
    model: "m",
    instructions: "be brief",
    input: [
      { role: "user", content: [{ type: "input_text", text: "q" }] },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "r" },
      { role: "assistant", content: [{ type: "output_text", text: "a" }] },
    ],
    tools: [{ type: "function", name: "f", parameters: { type: "object" } }],
  },
];

const name = fc.stringMatching(/^[a-z_][a-z0-9_.]{0,15}$/);
const unknownField = name.filter((n) => !KNOWN_FIELDS.has(n));
const unknownItemType = name.filter((n) => !KNOWN_ITEMS.has(n));
const unknownPartType = name.filter((n) => !KNOWN_PARTS.has(n));
const unknownRole = name.filter((n) => !KNOWN_ROLES.has(n));
const extraFields = fc.dictionary(name, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

const translate = (body: Json) => translateResponsesRequest(body, { model: "up" });

/** A copy of a base with items inserted at given positions of its input. */
function withItems(base: Json, inserts: { at: number; item: Json }[]): Json {
  const input = [...(base.input as Json[])];
  for (const { at, item } of inserts) input.splice(at % (input.length + 1), 0, item);
  return { ...base, input };
}

describe("Responses request translation under unknown input", () => {
  it("unknown top-level fields never change the translation (and never make it a 400)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.dictionary(unknownField, fc.jsonValue({ maxDepth: 3 })),
        (base, extra) => {
          const plain = translate(base);
          const extended = translate({ ...extra, ...base });
          expect(plain.ok).toBe(true);
          expect(extended).toEqual(plain);
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });

  it("unknown item types, part types and roles: never a throw; items and parts dropped and named; only roles refused", () => {
    const insert = fc.oneof(
      fc.record({ kind: fc.constant("item" as const), type: unknownItemType, extra: extraFields }),
      fc.record({ kind: fc.constant("role" as const), role: unknownRole }),
      fc.record({ kind: fc.constant("part" as const), type: unknownPartType, extra: extraFields }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.record({ at: fc.nat(), insert }), { maxLength: 4 }),
        (base, inserts) => {
          const items = inserts.map(({ at, insert: i }) => {
            if (i.kind === "item") return { at, item: { ...i.extra, type: i.type } };
            if (i.kind === "role") return { at, item: { type: "message", role: i.role, content: "x" } };
            const part = { ...i.extra, type: i.type };
            return {
              at,
              item: { type: "message", role: "user", content: [{ type: "input_text", text: "t" }, part] },
            };
          });
          const body = withItems(base, items);
          let out: ReturnType<typeof translate> | undefined;
          expect(() => (out = translate(body))).not.toThrow();
          if (!out) return;
          const input = body.input as Json[];
          if (!out.ok) {
            // The one refusal: a message whose role the gateway cannot place.
            const at = /^input\[(\d+)\]\.role$/.exec(out.param ?? "");
            expect(at, `${out.param}: ${out.message}`).not.toBeNull();
            expect(KNOWN_ROLES.has(String(input[Number(at?.[1])]?.role))).toBe(false);
            return;
          }
          for (const i of inserts) {
            if (i.insert.kind === "item") expect(out.dropped).toContain(`input:${i.insert.type}`);
            if (i.insert.kind === "part") expect(out.dropped).toContain(`content:${i.insert.type}`);
          }
          // And the step on to Anthropic takes the result without throwing.
          expect(() =>
            chatRequestToMessages(out?.ok ? out.value.chat : {}, { defaultMaxTokens: 10 }),
          ).not.toThrow();
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });

  it("random tools of unknown types are dropped and named, never refused", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(
          fc.record({
            type: name.filter((t) => !["function", "custom", "namespace"].includes(t)),
            extra: extraFields,
          }),
          {
            maxLength: 3,
          },
        ),
        (base, tools) => {
          const extra = tools.map((t) => ({ ...t.extra, type: t.type }));
          const out = translate({
            ...base,
            tools: [...((base.tools as Json[] | undefined) ?? []), ...extra],
          });
          if (!out.ok) throw new Error(out.message);
          for (const t of tools) expect(out.dropped).toContain(t.type);
        },
      ),
      { numRuns: 200, seed: SEED },
    );
  });
});
