import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { anthropicFormat, chat, emulatorRequests, messages, setup, type Json } from "./helpers";

/**
 * Random unknown fields, roles and block types added to valid requests, through the Worker: on
 * passthrough the upstream receives them exactly as sent (only `model` changes); translated, they never
 * make the gateway answer 5xx, and dropped block types are named in `x-bricklane-dropped`.
 */

const SEED = 20261128;
const RUNS = 12;

const fieldName = fc.stringMatching(/^x[a-z0-9_]{0,15}$/);
const typeName = fc.stringMatching(/^x[a-z0-9_]{0,20}$/);
const value = fc.jsonValue({ maxDepth: 2 });
const unknownBlock = fc
  .record({ type: typeName, extra: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), value, { maxKeys: 3 }) })
  .map(({ type, extra }) => ({ ...extra, type }));

const additions = fc.record({
  fields: fc.dictionary(fieldName, value, { maxKeys: 3 }),
  blocks: fc.array(fc.record({ message: fc.nat({ max: 2 }), block: unknownBlock }), { maxLength: 3 }),
  role: fc.option(fc.stringMatching(/^x[a-z]{0,9}$/)),
});
type Additions = typeof additions extends fc.Arbitrary<infer T> ? T : never;

function conversation(add: Additions, base: Json): Json {
  const msgs: { role: string; content: unknown[] }[] = [
    { role: "user", content: [{ type: "text", text: "q" }] },
    { role: "assistant", content: [{ type: "text", text: "a" }] },
    { role: "user", content: [{ type: "text", text: "q2" }] },
  ];
  for (const { message, block } of add.blocks) msgs[message]?.content.push(block);
  if (add.role !== null) msgs.splice(1, 0, { role: add.role, content: [{ type: "text", text: "who" }] });
  return { ...add.fields, ...base, messages: msgs };
}

async function upstreamBody(marker: string) {
  return (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker)?.body;
}

const send = (format: "anthropic" | "openai", key: string, body: Json, marker: string) =>
  format === "anthropic"
    ? messages(key, body, { "x-trace": marker })
    : chat(key, body, { "x-trace": marker });

describe.each(["anthropic", "openai"] as const)("%s client format", (format) => {
  let passthrough: { key: string; provider: string };
  let translated: { key: string; provider: string };
  beforeAll(async () => {
    const native = format === "anthropic" ? anthropicFormat() : {};
    const other = format === "anthropic" ? {} : anthropicFormat();
    passthrough = await setup(native);
    translated = await setup(other);
  });
  const base = (provider: string): Json =>
    format === "anthropic" ? { model: `${provider}/m`, max_tokens: 32 } : { model: `${provider}/m` };

  it("passthrough: the upstream receives every unknown field, role and block exactly as sent", async () => {
    await fc.assert(
      fc.asyncProperty(additions, async (add) => {
        const body = conversation(add, base(passthrough.provider));
        const marker = crypto.randomUUID();
        const res = await send(format, passthrough.key, body, marker);
        await res.body?.cancel();
        expect(res.status).toBe(200);
        expect(JSON.stringify(await upstreamBody(marker))).toBe(JSON.stringify({ ...body, model: "m" }));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("translation: 200 naming the dropped block types, or a 400 for an unknown role; never 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(additions, async (add) => {
        const res = await send(format, translated.key, conversation(add, base(translated.provider)), "-");
        const text = await res.text();
        if (add.role !== null) {
          expect(res.status, text).toBe(400);
          expect(text).toContain("messages[1].role");
          return;
        }
        expect(res.status, text).toBe(200);
        const named = (res.headers.get("x-bricklane-dropped") ?? "").split(", ").filter(Boolean);
        expect(named.sort()).toEqual([...new Set(add.blocks.map((b) => b.block.type))].sort());
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
