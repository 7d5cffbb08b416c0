import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { messagesRequestToChat } from "../../../src/formats/translate/anthropic-to-openai-request";
import { chatRequestToMessages } from "../../../src/formats/translate/openai-to-anthropic-request";

/**
 * Clients add fields, roles and block types every month. Whatever is added to a valid request, the
 * translators never throw; unknown fields disappear, unknown block and part types are dropped and named,
 * and only an unknown role is refused (naming it), because nobody can tell who said that message.
 */

const SEED = 20261128;

const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
/** Top-level names no version of either format uses (so none shadows a known field). */
const unknownFieldName = fc.stringMatching(/^x[a-z0-9_]{0,15}$/);
const typeName = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/);
const extras = fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

const ANT_BLOCKS = ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"];
const ANT_ROLES = ["user", "assistant", "system"];
const OAI_PARTS = ["text", "image_url", "input_audio", "file", "refusal"];
const OAI_ROLES = ["system", "developer", "user", "assistant", "tool", "function"];

/** A block or part of a type the translator does not know, with fields of its own. */
const unknownBlock = (known: string[]) =>
  fc
    .record({ type: typeName.filter((t) => !known.includes(t)), extra: extras })
    .map(({ type, extra }) => ({ ...extra, type }));

type Additions = {
  fields: Record<string, unknown>;
  blocks: { message: number; at: number; block: Record<string, unknown> }[];
  role: { at: number; role: string } | null;
};

const additions = (known: string[], roles: string[]) =>
  fc.record({
    fields: fc.dictionary(unknownFieldName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    blocks: fc.array(
      fc.record({ message: fc.nat({ max: 2 }), at: fc.nat({ max: 2 }), block: unknownBlock(known) }),
      { maxLength: 4 },
    ),
    role: fc.option(
      fc.record({
        at: fc.nat({ max: 3 }),
        role: fc.stringMatching(/^[a-z]{1,10}$/).filter((r) => !roles.includes(r)),
      }),
    ),
  });

/** A valid three-turn conversation with the additions applied. */
function withAdditions(base: Record<string, unknown>, add: Additions): Record<string, unknown> {
  const messages = structuredClone(base.messages) as { role: string; content: unknown[] }[];
  for (const { message, at, block } of add.blocks) {
    const content = messages[message]?.content;
    content?.splice(Math.min(at, content.length), 0, block);
  }
  if (add.role) messages.splice(add.role.at, 0, { role: add.role.role, content: [] });
  return { ...add.fields, ...base, messages };
}

const addedTypes = (add: Additions) => add.blocks.map((b) => String(b.block.type));

describe("translation of requests with unknown fields, roles and block types", () => {
  it("Anthropic → OpenAI never throws; unknown blocks are named, an unknown role refused", () => {
    const base = {
      model: "m",
      max_tokens: 64,
      system: [{ type: "text", text: "s" }],
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        { role: "assistant", content: [{ type: "text", text: "a" }] },
        { role: "user", content: [{ type: "text", text: "q2" }] },
      ],
    };
    fc.assert(
      fc.property(additions(ANT_BLOCKS, ANT_ROLES), (add) => {
        const result = messagesRequestToChat(withAdditions(base, add));
        if (add.role) {
          expect(result).toMatchObject({ ok: false, param: `messages[${add.role.at}].role` });
          return;
        }
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect([...(result.dropped ?? [])].sort()).toEqual(addedTypes(add).sort());
        const wire = JSON.stringify(result.value);
        for (const name of Object.keys(add.fields)) expect(wire).not.toContain(`"${name}":`);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("OpenAI → Anthropic never throws; unknown parts are named, an unknown role refused", () => {
    const base = {
      model: "m",
      messages: [
        { role: "user", content: [{ type: "text", text: "q" }] },
        { role: "assistant", content: [{ type: "text", text: "a" }] },
        { role: "user", content: [{ type: "text", text: "q2" }] },
      ],
    };
    fc.assert(
      fc.property(additions(OAI_PARTS, OAI_ROLES), (add) => {
        const result = chatRequestToMessages(withAdditions(base, add), { defaultMaxTokens: 64 });
        if (add.role) {
          expect(result).toMatchObject({ ok: false, param: `messages[${add.role.at}].role` });
          return;
        }
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect([...(result.dropped ?? [])].sort()).toEqual(addedTypes(add).sort());
        const wire = JSON.stringify(result.value);
        for (const name of Object.keys(add.fields)) expect(wire).not.toContain(`"${name}":`);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
