import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anthropicSseToResponsesSse } from "../../../src/formats/responses/anthropic-stream";
import { chatSseToResponsesSse } from "../../../src/formats/responses/chat-stream";
import { responseEcho } from "../../../src/formats/responses/request";
import type { SseTranslator } from "../../../src/formats/translate/sse";
import { anthropicSse, encoder, openAiSse, splitBytes, translate } from "../translate/helpers";
import { checkResponsesStream } from "./helpers";

/**
 * Properties of both stream translators over generated upstream streams: every rule of the Responses event
 * sequence holds, text and arguments arrive intact, the output does not depend on how the bytes were
 * split, and a stream cut anywhere still ends in exactly one terminal event (never a silent end).
 */

const shape = { model: "m", echo: responseEcho({}), responseId: "resp_prop", createdAt: 1 };
const text = fc.string({ unit: "grapheme", maxLength: 12 });
const toolName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
const jsonObject = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const fragmentsOf = (s: string) =>
  fc.array(fc.nat({ max: s.length }), { maxLength: 5 }).map((cuts) => {
    const points = [...cuts].sort((a, b) => a - b);
    const parts: string[] = [];
    let last = 0;
    for (const p of [...points, s.length]) {
      parts.push(s.slice(last, p));
      last = p;
    }
    return parts;
  });
const toolCall = fc.record({
  name: toolName,
  args: jsonObject.chain((o) => fragmentsOf(JSON.stringify(o)).map((fragments) => ({ o, fragments }))),
});
const turn = fc.record({
  texts: fc.array(text, { maxLength: 4 }),
  calls: fc.array(toolCall, { maxLength: 3 }),
  interleave: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 30 }),
});
type Turn = typeof turn extends fc.Arbitrary<infer T> ? T : never;

const chunk = (delta: object, finish: string | null = null) => ({
  id: "c",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** The turn as an OpenAI chat stream; several calls' argument fragments interleaved when asked. */
function chatStream(t: Turn): string {
  const frames: (object | "[DONE]")[] = [chunk({ role: "assistant", content: "" })];
  for (const s of t.texts) frames.push(chunk({ content: s }));
  t.calls.forEach((c, index) =>
    frames.push(
      chunk({
        tool_calls: [
          { index, id: `call_${index}`, type: "function", function: { name: c.name, arguments: "" } },
        ],
      }),
    ),
  );
  const order: [number, string][] = [];
  const longest = Math.max(0, ...t.calls.map((c) => c.args.fragments.length));
  if (t.interleave) {
    for (let r = 0; r < longest; r++) {
      t.calls.forEach((c, i) => {
        const f = c.args.fragments[r];
        if (f !== undefined) order.push([i, f]);
      });
    }
  } else t.calls.forEach((c, i) => c.args.fragments.forEach((f) => order.push([i, f])));
  for (const [index, f] of order) frames.push(chunk({ tool_calls: [{ index, function: { arguments: f } }] }));
  frames.push(chunk({}, t.calls.length > 0 ? "tool_calls" : "stop"));
  frames.push({ id: "c", choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
  frames.push("[DONE]");
  return openAiSse(frames);
}

/** The turn as an Anthropic stream: one text block, then one tool_use block per call. */
function anthropicStream(t: Turn): string {
  const events: { type: string; [k: string]: unknown }[] = [
    {
      type: "message_start",
      message: { id: "msg", type: "message", role: "assistant", content: [], usage: { input_tokens: 3 } },
    },
  ];
  let index = 0;
  if (t.texts.length > 0) {
    events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
    for (const s of t.texts)
      events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: s } });
    events.push({ type: "content_block_stop", index });
    index++;
  }
  t.calls.forEach((c, i) => {
    events.push({
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: `toolu_${i}`, name: c.name, input: {} },
    });
    for (const f of c.args.fragments) {
      events.push({
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: f },
      });
    }
    events.push({ type: "content_block_stop", index });
    index++;
  });
  events.push({
    type: "message_delta",
    delta: { stop_reason: t.calls.length ? "tool_use" : "end_turn" },
    usage: { output_tokens: 4 },
  });
  events.push({ type: "message_stop" });
  return anthropicSse(events);
}

const CASES: [string, (t: Turn) => string, () => SseTranslator, string][] = [
  ["OpenAI chat", chatStream, () => chatSseToResponsesSse(shape), "call_"],
  ["Anthropic", anthropicStream, () => anthropicSseToResponsesSse(shape), "toolu_"],
];

describe.each(CASES)("%s → Responses, properties", (_name, streamOf, make, callPrefix) => {
  it("keeps every rule, the text and each call's arguments, whatever the byte splits", async () => {
    await fc.assert(
      fc.asyncProperty(turn, async (t) => {
        const input = streamOf(t);
        const whole = await translate(input, make());
        expect(await translate(input, make(), t.cuts)).toBe(whole);
        const s = checkResponsesStream(whole);
        expect(s.violations).toEqual([]);
        expect(s.terminal?.type).toBe("response.completed");
        expect(Object.values(s.text).join("")).toBe(t.texts.join(""));
        const calls = s.items.filter((i) => i.type === "function_call");
        expect(calls.map((c) => [c.call_id, c.name, JSON.parse(String(c.arguments)) as unknown])).toEqual(
          // Through JSON and back, as the arguments travel (-0 becomes 0).
          t.calls.map((c, i) => [
            `${callPrefix}${i}`,
            c.name,
            JSON.parse(JSON.stringify(c.args.o)) as unknown,
          ]),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("a stream cut at any byte ends in exactly one terminal event, with every rule kept", async () => {
    await fc.assert(
      fc.asyncProperty(turn, fc.nat(), async (t, at) => {
        const bytes = encoder.encode(streamOf(t));
        const cut = bytes.slice(0, at % (bytes.length + 1));
        const s = checkResponsesStream(await translate(splitBytes(cut, t.cuts), make()));
        expect(s.violations).toEqual([]);
        const terminals = s.types.filter((x) => /^response\.(completed|incomplete|failed)$/.test(x));
        expect(terminals).toHaveLength(1);
        if (terminals[0] === "response.failed") expect(s.types.at(-1)).toBe("error");
      }),
      { numRuns: 200 },
    );
  });
});
