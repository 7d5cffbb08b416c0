import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anthropicSseToOpenAiSse } from "../../../src/formats/translate/anthropic-to-openai-stream";
import { messagesRequestToChat } from "../../../src/formats/translate/anthropic-to-openai-request";
import {
  finishReasonFromStopReason,
  stopReasonFromFinishReason,
} from "../../../src/formats/translate/mapping";
import { chatRequestToMessages } from "../../../src/formats/translate/openai-to-anthropic-request";
import { openAiSseToAnthropicSse } from "../../../src/formats/translate/openai-to-anthropic-stream";
import type { AntMessagesRequestOut } from "../../../src/formats/translate/types";
import {
  anthropicSse,
  assembleAnthropic,
  assembleOpenAi,
  openAiSse,
  parseSse,
  type AssembledBlock,
  translate,
} from "./helpers";

// ---------------------------------------------------------------------------------------------------
// Shared arbitraries

/** Any Unicode, so UTF-8 sequences of 1 to 4 bytes end up in the byte stream. */
const text = fc.string({ unit: "grapheme", maxLength: 16 });
const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const toolName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,30}$/);
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

/** Splits a string into fragments at arbitrary points, some of them empty (servers send those too). */
const fragmentsOf = (s: string) =>
  fc.array(fc.nat({ max: s.length }), { maxLength: 6 }).map((cuts) => {
    const points = [...cuts].sort((a, b) => a - b);
    const parts: string[] = [];
    let last = 0;
    for (const p of [...points, s.length]) {
      parts.push(s.slice(last, p));
      last = p;
    }
    return parts;
  });
const textFragments = fc.array(text, { maxLength: 5 });
const jsonFragments = jsonObject.chain((o) => fragmentsOf(JSON.stringify(o)));
const cuts = fc.array(fc.nat(), { maxLength: 40 });

// ---------------------------------------------------------------------------------------------------
// Requests

type Conversation = Record<string, unknown>[];

function textsOf(content: unknown): string[] {
  if (typeof content === "string") return content === "" ? [] : [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((p: { type?: string; text?: string; content?: unknown }) => {
    if (p.type === "text" && typeof p.text === "string" && p.text !== "") return [p.text];
    if (p.type === "tool_result") return textsOf(p.content);
    return [];
  });
}

const sorted = (xs: string[]) => [...xs].sort();

/** Texts of OpenAI messages, apart from system ones, as a multiset. */
function openAiTexts(messages: Conversation): string[] {
  return sorted(
    messages.filter((m) => m.role !== "system" && m.role !== "developer").flatMap((m) => textsOf(m.content)),
  );
}
function openAiSystemTexts(messages: Conversation): string[] {
  return messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .flatMap((m) => textsOf(m.content));
}
function openAiToolCalls(messages: Conversation): string[] {
  return messages.flatMap((m) =>
    (
      (m.tool_calls as { id: string; function: { name: string; arguments: string } }[] | null | undefined) ??
      []
    ).map((c) => `${c.id} ${c.function.name} ${JSON.stringify(JSON.parse(c.function.arguments))}`),
  );
}
function openAiToolResultIds(messages: Conversation): string[] {
  return sorted(messages.filter((m) => m.role === "tool").map((m) => String(m.tool_call_id)));
}

const textPart = text.map((t) => ({ type: "text", text: t }));
const textContent = fc.oneof(text, fc.array(textPart, { maxLength: 3 }));
const openAiMessage: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ role: fc.constantFrom("system", "developer"), content: textContent }),
  fc.record({ role: fc.constant("user"), content: textContent }),
  fc.record({
    role: fc.constant("assistant"),
    content: fc.option(textContent),
    tool_calls: fc.array(
      fc.record({
        id,
        type: fc.constant("function"),
        function: fc.record({ name: toolName, arguments: jsonObject.map((o) => JSON.stringify(o)) }),
      }),
      { maxLength: 3 },
    ),
  }),
  fc.record({ role: fc.constant("tool"), tool_call_id: id, content: textContent }),
);

const antBlocks = {
  user: fc.oneof(
    textPart,
    fc.record({
      type: fc.constant("tool_result"),
      tool_use_id: id,
      content: fc.oneof(text, fc.array(textPart, { maxLength: 3 })),
    }),
  ),
  assistant: fc.oneof(
    textPart,
    fc.record({ type: fc.constant("tool_use"), id, name: toolName, input: jsonObject }),
  ),
};
const anthropicMessage: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    role: fc.constant("user"),
    content: fc.oneof(text, fc.array(antBlocks.user, { maxLength: 4 })),
  }),
  fc.record({
    role: fc.constant("assistant"),
    content: fc.oneof(text, fc.array(antBlocks.assistant, { maxLength: 4 })),
  }),
);

function anthropicTexts(req: { messages: Conversation }): string[] {
  return sorted(req.messages.flatMap((m) => textsOf(m.content)));
}
function anthropicToolUses(req: { messages: Conversation }): string[] {
  return req.messages.flatMap((m) =>
    Array.isArray(m.content)
      ? (m.content as { type: string; id: string; name: string; input: unknown }[])
          .filter((b) => b.type === "tool_use")
          .map((b) => `${b.id} ${b.name} ${JSON.stringify(b.input)}`)
      : [],
  );
}
function anthropicToolResultIds(req: { messages: Conversation }): string[] {
  return sorted(
    req.messages.flatMap((m) =>
      Array.isArray(m.content)
        ? (m.content as { type: string; tool_use_id: string }[])
            .filter((b) => b.type === "tool_result")
            .map((b) => b.tool_use_id)
        : [],
    ),
  );
}
const systemTexts = (system: unknown) => textsOf(system);

describe("request translation round trips", () => {
  it("OpenAI → Anthropic → OpenAI keeps every text, tool name, tool-call id and arguments", () => {
    fc.assert(
      fc.property(fc.array(openAiMessage, { minLength: 1, maxLength: 12 }), (messages) => {
        const there = chatRequestToMessages({ model: "m", messages }, { defaultMaxTokens: 1000 });
        if (!there.ok) {
          // Only a conversation with nothing but system prompts and empty text has nothing to send.
          expect(there.param).toBe("messages");
          expect(
            openAiTexts(messages).length +
              openAiToolCalls(messages).length +
              openAiToolResultIds(messages).length,
          ).toBe(0);
          return;
        }
        const back = messagesRequestToChat(there.value);
        if (!back.ok) throw new Error(back.message);
        const out = back.value.messages as Conversation;
        expect(openAiTexts(out)).toEqual(openAiTexts(messages));
        expect(openAiSystemTexts(out)).toEqual(openAiSystemTexts(messages));
        expect(out.slice(1).some((m) => m.role === "system")).toBe(false);
        expect(openAiToolCalls(out)).toEqual(openAiToolCalls(messages));
        expect(openAiToolResultIds(out)).toEqual(openAiToolResultIds(messages));
        assertAnthropicShape(there.value);
      }),
      { numRuns: 300 },
    );
  });

  it("Anthropic → OpenAI → Anthropic keeps every text, tool name, tool-use id and input", () => {
    fc.assert(
      fc.property(
        fc.option(fc.oneof(text, fc.array(textPart, { maxLength: 3 }))),
        fc.array(anthropicMessage, { minLength: 1, maxLength: 10 }),
        (system, messages) => {
          const req = { model: "m", max_tokens: 100, messages, ...(system === null ? {} : { system }) };
          const there = messagesRequestToChat(req);
          if (!there.ok) throw new Error(there.message);
          const back = chatRequestToMessages(there.value, { defaultMaxTokens: 1 });
          if (!back.ok) {
            expect(
              anthropicTexts(req).length + anthropicToolUses(req).length + anthropicToolResultIds(req).length,
            ).toBe(0);
            return;
          }
          const out = back.value as unknown as { messages: Conversation; system?: unknown };
          expect(anthropicTexts(out)).toEqual(anthropicTexts(req));
          expect(systemTexts(out.system)).toEqual(systemTexts(system));
          expect(anthropicToolUses(out)).toEqual(anthropicToolUses(req));
          expect(anthropicToolResultIds(out)).toEqual(anthropicToolResultIds(req));
          expect(back.value.max_tokens).toBe(100);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** What Anthropic itself enforces: alternating roles, no empty turns or text, tool results first. */
function assertAnthropicShape(req: AntMessagesRequestOut): void {
  req.messages.forEach((m, i) => {
    expect(m.content.length).toBeGreaterThan(0);
    if (i > 0) expect(m.role).not.toBe(req.messages[i - 1]?.role);
    for (const b of m.content) if (b.type === "text") expect(b.text).not.toBe("");
    const firstOther = m.content.findIndex((b) => b.type !== "tool_result");
    if (firstOther >= 0)
      expect(m.content.slice(firstOther).some((b) => b.type === "tool_result")).toBe(false);
  });
}

// ---------------------------------------------------------------------------------------------------
// Streams: Anthropic upstream → OpenAI client

type AntModelBlock =
  | { kind: "text"; parts: string[] }
  | { kind: "thinking"; parts: string[] }
  | { kind: "tool"; id: string; name: string; parts: string[] };

const antModel = fc.record({
  blocks: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constantFrom("text" as const, "thinking" as const), parts: textFragments }),
      fc.record({ kind: fc.constant("tool" as const), id, name: toolName, parts: jsonFragments }),
    ) as fc.Arbitrary<AntModelBlock>,
    { maxLength: 6 },
  ),
  stopReason: fc.constantFrom("end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "pause_turn"),
  usage: fc.record({
    input_tokens: fc.nat(100_000),
    output_tokens: fc.nat(10_000),
    cache_creation_input_tokens: fc.nat(10_000),
    cache_read_input_tokens: fc.nat(10_000),
  }),
  pings: fc.array(fc.nat(40), { maxLength: 3 }),
});

type AntModel = typeof antModel extends fc.Arbitrary<infer T> ? T : never;

function renderAnthropic(m: AntModel) {
  const events: { type: string; [k: string]: unknown }[] = [
    {
      type: "message_start",
      message: {
        id: "msg_p",
        type: "message",
        role: "assistant",
        content: [],
        // Usage counters are running totals: the final output count is never below the first.
        usage: { ...m.usage, output_tokens: Math.min(1, m.usage.output_tokens) },
      },
    },
  ];
  m.blocks.forEach((b, index) => {
    const start =
      b.kind === "text"
        ? { type: "text", text: "" }
        : b.kind === "thinking"
          ? { type: "thinking", thinking: "", signature: "" }
          : { type: "tool_use", id: b.id, name: b.name, input: {} };
    events.push({ type: "content_block_start", index, content_block: start });
    for (const p of b.parts) {
      const delta =
        b.kind === "text"
          ? { type: "text_delta", text: p }
          : b.kind === "thinking"
            ? { type: "thinking_delta", thinking: p }
            : { type: "input_json_delta", partial_json: p };
      events.push({ type: "content_block_delta", index, delta });
    }
    if (b.kind === "thinking")
      events.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: "s" } });
    events.push({ type: "content_block_stop", index });
  });
  events.push({
    type: "message_delta",
    delta: { stop_reason: m.stopReason, stop_sequence: null },
    usage: { output_tokens: m.usage.output_tokens },
  });
  events.push({ type: "message_stop" });
  for (const p of m.pings) events.splice(1 + (p % events.length), 0, { type: "ping" });
  return anthropicSse(events);
}

describe("stream translation does not depend on how the upstream bytes are split", () => {
  it("Anthropic → OpenAI: same assembled message, no empty deltas, consistent tool indices", async () => {
    await fc.assert(
      fc.asyncProperty(antModel, cuts, fc.boolean(), async (model, points, includeUsage) => {
        const input = renderAnthropic(model);
        const make = () => anthropicSseToOpenAiSse({ includeUsage, model: "client", created: 1 });
        const whole = await translate(input, make());
        const split = await translate(input, make(), points);
        expect(split).toBe(whole);

        const a = assembleOpenAi(split);
        expect(a.violations).toEqual([]);
        expect(a.error).toBeNull();
        expect(a.done).toBe(true);
        expect(a.role).toBe("assistant");
        const join = (kind: string) =>
          model.blocks
            .filter((b) => b.kind === kind)
            .flatMap((b) => b.parts)
            .join("");
        expect(a.content).toBe(join("text"));
        expect(a.reasoning).toBe(join("thinking"));
        expect(a.toolCalls).toEqual(
          model.blocks.flatMap((b) =>
            b.kind === "tool" ? [{ id: b.id, name: b.name, arguments: b.parts.join("") }] : [],
          ),
        );
        expect(a.finishReason).toBe(finishReasonFromStopReason(model.stopReason));
        const u = model.usage;
        const prompt = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
        expect(a.usage).toEqual(
          includeUsage
            ? {
                prompt_tokens: prompt,
                completion_tokens: u.output_tokens,
                total_tokens: prompt + u.output_tokens,
                prompt_tokens_details: { cached_tokens: u.cache_read_input_tokens },
              }
            : null,
        );
      }),
      { numRuns: 200 },
    );
  });

  // -------------------------------------------------------------------------------------------------
  // OpenAI upstream → Anthropic client

  type OaiSegment =
    | { kind: "text"; parts: string[] }
    | { kind: "reasoning"; parts: string[] }
    | { kind: "tool"; id: string; name: string; parts: string[]; argsInStart: boolean };

  const oaiModel = fc.record({
    segments: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constantFrom("text" as const, "reasoning" as const), parts: textFragments }),
        // Weighted so that runs of several tool calls, which the schedule can interleave, are common.
        {
          weight: 2,
          arbitrary: fc.record({
            kind: fc.constant("tool" as const),
            id,
            name: toolName,
            parts: jsonFragments,
            argsInStart: fc.boolean(),
          }),
        },
      ) as fc.Arbitrary<OaiSegment>,
      { maxLength: 6 },
    ),
    finish: fc.constantFrom("stop", "length", "tool_calls", "content_filter"),
    usage: fc.option(
      fc.record({
        prompt: fc.nat(100_000),
        completion: fc.nat(10_000),
        cachedShare: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    ),
    usageOnFinish: fc.boolean(),
    crlf: fc.boolean(),
    /**
     * How consecutive tool calls are sent: one after the other, or with their chunks interleaved across
     * indices (each call still starts before the next index does), picking the next call from `schedule`;
     * `withNext` puts that entry in the same chunk as the following one.
     */
    interleave: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    schedule: fc.array(fc.record({ pick: fc.nat(), withNext: fc.boolean() }), {
      minLength: 1,
      maxLength: 40,
    }),
  });
  type OaiModel = typeof oaiModel extends fc.Arbitrary<infer T> ? T : never;
  type ToolSegment = Extract<OaiSegment, { kind: "tool" }>;

  function renderOpenAi(m: OaiModel): string {
    const base = { id: "chatcmpl-p", object: "chat.completion.chunk", created: 1, model: "gpt" };
    const chunk = (delta: object, finish: string | null = null, extra: object = {}) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...extra,
    });
    const frames: (object | "[DONE]")[] = [chunk({ role: "assistant", content: "" })];
    let toolIndex = 0;
    let step = 0;
    /** Sends a run of consecutive tool calls, interleaved as the model's schedule says. */
    const sendTools = (group: ToolSegment[]) => {
      const entries = group.map((s) => {
        const index = toolIndex++;
        const [first = "", ...rest] = s.argsInStart ? s.parts : ["", ...s.parts];
        return [
          { index, id: s.id, type: "function", function: { name: s.name, arguments: first } },
          ...rest.map((p) => ({ index, function: { arguments: p } })),
        ];
      });
      const sent = entries.map(() => 0);
      let batch: object[] = [];
      for (;;) {
        // A call may go once every lower index has started; without interleaving, only the lowest unfinished.
        const eligible = entries
          .map((_, i) => i)
          .filter((i) => sent[i]! < entries[i]!.length && (i === 0 || sent[i - 1]! > 0));
        if (eligible.length === 0) break;
        const choice = m.interleave ? m.schedule[step++ % Math.max(1, m.schedule.length)] : undefined;
        const i = eligible[(choice?.pick ?? 0) % eligible.length]!;
        batch.push(entries[i]![sent[i]!++]!);
        if (!choice?.withNext) {
          frames.push(chunk({ tool_calls: batch }));
          batch = [];
        }
      }
      if (batch.length > 0) frames.push(chunk({ tool_calls: batch }));
    };
    let group: ToolSegment[] = [];
    for (const s of m.segments) {
      if (s.kind === "tool") {
        group.push(s);
        continue;
      }
      sendTools(group);
      group = [];
      if (s.kind === "text") for (const p of s.parts) frames.push(chunk({ content: p }));
      else for (const p of s.parts) frames.push(chunk({ reasoning_content: p }));
    }
    sendTools(group);
    const usage = m.usage && {
      prompt_tokens: m.usage.prompt,
      completion_tokens: m.usage.completion,
      total_tokens: m.usage.prompt + m.usage.completion,
      prompt_tokens_details: { cached_tokens: Math.floor(m.usage.prompt * m.usage.cachedShare) },
    };
    if (usage && m.usageOnFinish) frames.push(chunk({}, m.finish, { usage }));
    else {
      frames.push(chunk({}, m.finish));
      if (usage) frames.push({ ...base, choices: [], usage });
    }
    frames.push("[DONE]");
    const sse = openAiSse(frames);
    return m.crlf ? sse.replace(/\n/g, "\r\n") : sse;
  }

  function expectedBlocks(m: OaiModel): AssembledBlock[] {
    const blocks: AssembledBlock[] = [];
    for (const s of m.segments) {
      if (s.kind === "tool") {
        blocks.push({ type: "tool_use", id: s.id, name: s.name, json: s.parts.join("") });
        continue;
      }
      const joined = s.parts.join("");
      if (joined === "") continue;
      const last = blocks[blocks.length - 1];
      if (s.kind === "text") {
        if (last?.type === "text") last.text += joined;
        else blocks.push({ type: "text", text: joined });
      } else if (last?.type === "thinking") last.thinking += joined;
      else blocks.push({ type: "thinking", thinking: joined, signature: "" });
    }
    return blocks;
  }

  it("OpenAI → Anthropic: same assembled message, no empty deltas, block indices 0..n, one open block, with tool-call fragments interleaved or not", async () => {
    await fc.assert(
      fc.asyncProperty(oaiModel, cuts, async (model, points) => {
        const input = renderOpenAi(model);
        const make = () => openAiSseToAnthropicSse({ model: "client", messageId: "msg_p" });
        const whole = await translate(input, make());
        const split = await translate(input, make(), points);
        expect(split).toBe(whole);

        const a = assembleAnthropic(split);
        expect(a.violations).toEqual([]);
        expect(a.error).toBeNull();
        expect(a.stopped).toBe(true);
        expect(a.blocks).toEqual(expectedBlocks(model));
        const hasTools = model.segments.some((s) => s.kind === "tool");
        expect(a.stopReason).toBe(stopReasonFromFinishReason(model.finish, hasTools));
        if (!model.interleave) {
          // Sent one after the other, every non-empty argument fragment is streamed as it comes.
          const deltas = parseSse(split).filter((e) => e.data.includes('"input_json_delta"'));
          const fragments = model.segments.flatMap((s) => (s.kind === "tool" ? s.parts : []));
          expect(deltas).toHaveLength(fragments.filter((p) => p !== "").length);
        }
        const u = model.usage;
        const cached = u ? Math.floor(u.prompt * u.cachedShare) : 0;
        expect(a.usage).toEqual({
          input_tokens: u ? u.prompt - cached : 0,
          output_tokens: u ? u.completion : 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: cached,
        });
      }),
      { numRuns: 200 },
    );
  });

  it("a stream cut at any byte ends with exactly one terminal event or error, never a silent end", async () => {
    await fc.assert(
      fc.asyncProperty(oaiModel, antModel, fc.nat(), async (oModel, aModel, at) => {
        const oInput = renderOpenAi(oModel);
        const oCut = oInput.slice(0, at % (oInput.length + 1));
        const o = assembleAnthropic(
          await translate(oCut, openAiSseToAnthropicSse({ model: "c", messageId: "m" })),
        );
        expect(o.violations).toEqual([]);
        expect(o.stopped !== (o.error !== null)).toBe(true);

        const aInput = renderAnthropic(aModel);
        const aCut = aInput.slice(0, at % (aInput.length + 1));
        const a = assembleOpenAi(
          await translate(aCut, anthropicSseToOpenAiSse({ includeUsage: true, model: "c" })),
        );
        expect(a.violations.filter((v) => v !== "chunk before the role")).toEqual([]);
        expect(a.done !== (a.error !== null)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
