import { describe, expect, it } from "vitest";
import { anthropicSseToOpenAiSse } from "../../../src/formats/translate/anthropic-to-openai-stream";
import type { Usage } from "../../../src/formats/usage";
import { anthropicSse, assembleOpenAi, parseSse, translate } from "./helpers";

type Ev = { type: string; [key: string]: unknown };

const messageStart = (usage: Record<string, number> = { input_tokens: 25, output_tokens: 1 }): Ev => ({
  type: "message_start",
  message: {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "claude",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage,
  },
});
const textStart = (index: number): Ev => ({
  type: "content_block_start",
  index,
  content_block: { type: "text", text: "" },
});
const textDelta = (index: number, text: string): Ev => ({
  type: "content_block_delta",
  index,
  delta: { type: "text_delta", text },
});
const toolStart = (index: number, id: string, name: string): Ev => ({
  type: "content_block_start",
  index,
  content_block: { type: "tool_use", id, name, input: {} },
});
const jsonDelta = (index: number, partial_json: string): Ev => ({
  type: "content_block_delta",
  index,
  delta: { type: "input_json_delta", partial_json },
});
const stop = (index: number): Ev => ({ type: "content_block_stop", index });
const messageDelta = (stop_reason: string, output_tokens: number): Ev => ({
  type: "message_delta",
  delta: { stop_reason, stop_sequence: null },
  usage: { output_tokens },
});
const messageStop: Ev = { type: "message_stop" };

function run(
  events: Ev[] | string,
  opts: { includeUsage?: boolean; onUsage?: (u: Usage | null) => void } = {},
) {
  const input = typeof events === "string" ? events : anthropicSse(events);
  return translate(
    input,
    anthropicSseToOpenAiSse({
      includeUsage: opts.includeUsage ?? false,
      model: "gpt-client",
      created: 7,
      onUsage: opts.onUsage,
    }),
  );
}

describe("anthropicSseToOpenAiSse", () => {
  it("translates a text stream: role first, content deltas, finish reason, [DONE]", async () => {
    const out = await run([
      messageStart(),
      textStart(0),
      { type: "ping" },
      textDelta(0, "Hello"),
      textDelta(0, ""),
      textDelta(0, " world"),
      stop(0),
      messageDelta("end_turn", 12),
      messageStop,
    ]);
    const frames = parseSse(out).map((e) => e.data);
    expect(frames[0]).toBe(
      JSON.stringify({
        id: "msg_01",
        object: "chat.completion.chunk",
        created: 7,
        model: "gpt-client",
        choices: [
          { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
        ],
      }),
    );
    expect(frames.at(-1)).toBe("[DONE]");
    const a = assembleOpenAi(out);
    expect(a).toMatchObject({
      role: "assistant",
      content: "Hello world",
      finishReason: "stop",
      done: true,
      usage: null,
    });
    expect(a.violations).toEqual([]);
    expect(frames).toHaveLength(5);
  });

  it("numbers tool calls among tool blocks only, and streams their arguments", async () => {
    const out = await run([
      messageStart(),
      textStart(0),
      textDelta(0, "Let me check."),
      stop(0),
      toolStart(1, "toolu_a", "weather"),
      jsonDelta(1, ""),
      jsonDelta(1, '{"city":'),
      jsonDelta(1, '"Paris"}'),
      stop(1),
      toolStart(2, "toolu_b", "time"),
      jsonDelta(2, '{"tz":"CET"}'),
      stop(2),
      messageDelta("tool_use", 40),
      messageStop,
    ]);
    const a = assembleOpenAi(out);
    expect(a.violations).toEqual([]);
    expect(a.toolCalls).toEqual([
      { id: "toolu_a", name: "weather", arguments: '{"city":"Paris"}' },
      { id: "toolu_b", name: "time", arguments: '{"tz":"CET"}' },
    ]);
    expect(a.finishReason).toBe("tool_calls");
    expect(out).toContain(
      '"tool_calls":[{"index":1,"id":"toolu_b","type":"function","function":{"name":"time","arguments":""}}]',
    );
  });

  it("sends the usage chunk only when asked, with cache tokens folded into the prompt", async () => {
    const events = [
      messageStart({
        input_tokens: 10,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 100,
        output_tokens: 1,
      }),
      textStart(0),
      textDelta(0, "x"),
      stop(0),
      messageDelta("max_tokens", 30),
      messageStop,
    ];
    const usages: (Usage | null)[] = [];
    const withUsage = assembleOpenAi(
      await run(events, { includeUsage: true, onUsage: (u) => usages.push(u) }),
    );
    expect(withUsage.usage).toEqual({
      prompt_tokens: 115,
      completion_tokens: 30,
      total_tokens: 145,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    expect(withUsage.finishReason).toBe("length");
    expect(withUsage.violations).toEqual([]);
    expect(assembleOpenAi(await run(events)).usage).toBeNull();
    expect(usages).toEqual([
      {
        inputTokens: 115,
        cacheReadTokens: 100,
        cacheWriteTokens: 5,
        outputTokens: 30,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("maps thinking to reasoning_content and ignores signatures and redacted thinking", async () => {
    const out = await run([
      messageStart(),
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "thinking", thinking: "", signature: "" },
      },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "abc" } },
      stop(0),
      { type: "content_block_start", index: 1, content_block: { type: "redacted_thinking", data: "zzz" } },
      stop(1),
      textStart(2),
      textDelta(2, "42"),
      stop(2),
      messageDelta("end_turn", 3),
      messageStop,
    ]);
    const a = assembleOpenAi(out);
    expect(a).toMatchObject({ reasoning: "Hmm.", content: "42", violations: [] });
  });

  it("ignores server-tool blocks and their JSON, and unknown event types", async () => {
    const out = await run([
      messageStart(),
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "server_tool_use", id: "s", name: "web_search" },
      },
      jsonDelta(0, '{"query":"x"}'),
      stop(0),
      { type: "some_future_event", foo: 1 },
      textStart(1),
      textDelta(1, "found"),
      stop(1),
      messageDelta("end_turn", 3),
      messageStop,
    ]);
    const a = assembleOpenAi(out);
    expect(a).toMatchObject({ content: "found", toolCalls: [], violations: [], done: true });
  });

  it("relays an upstream error event as an OpenAI error frame and stops", async () => {
    const out = await run([
      messageStart(),
      textStart(0),
      textDelta(0, "partial"),
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      textDelta(0, "never"),
    ]);
    const a = assembleOpenAi(out);
    expect(a.content).toBe("partial");
    expect(a.error).toEqual({
      message: "upstream error: Overloaded",
      type: "upstream_error",
      code: "overloaded_error",
    });
    expect(a.done).toBe(false);
    expect(a.violations).toEqual([]);
  });

  it("relays a plain-text error event with its text", async () => {
    const a = assembleOpenAi(await run("event: error\ndata: upstream connect error\n\n"));
    expect(a.error).toEqual({
      message: "upstream error: upstream connect error",
      type: "upstream_error",
      code: "api_error",
    });
  });

  it("ends a stream cut before message_stop with an error, never [DONE]", async () => {
    const usages: (Usage | null)[] = [];
    const out = await run([messageStart(), textStart(0), textDelta(0, "half")], {
      onUsage: (u) => usages.push(u),
    });
    const a = assembleOpenAi(out);
    expect(a.error?.code).toBe("stream_truncated");
    expect(a.done).toBe(false);
    expect(usages).toEqual([
      {
        inputTokens: 25,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 1,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("treats a stream cut after message_delta as cut too", async () => {
    const a = assembleOpenAi(
      await run([messageStart(), textStart(0), textDelta(0, "x"), stop(0), messageDelta("end_turn", 1)]),
    );
    expect(a.finishReason).toBe("stop");
    expect(a.error?.code).toBe("stream_truncated");
  });

  it("answers malformed JSON and malformed known events with an error frame", async () => {
    const bad = await run("event: message_start\ndata: {not json\n\n");
    expect(assembleOpenAi(bad).error?.code).toBe("malformed_upstream_event");
    const badShape = await run([messageStart(), { type: "content_block_delta", index: "zero", delta: {} }]);
    expect(assembleOpenAi(badShape).error?.code).toBe("malformed_upstream_event");
    const notObject = await run("event: message_start\ndata: 42\n\n");
    expect(assembleOpenAi(notObject).error?.code).toBe("malformed_upstream_event");
  });

  it("still sends the role first when the upstream skips message_start", async () => {
    const a = assembleOpenAi(await run([textStart(0), textDelta(0, "hi"), stop(0), messageStop]));
    expect(a).toMatchObject({
      role: "assistant",
      content: "hi",
      finishReason: "stop",
      done: true,
      violations: [],
    });
  });

  it("dispatches on the data's type, so data-only frames from lenient upstreams work too", async () => {
    const dataOnly = [
      messageStart(),
      textStart(0),
      textDelta(0, "ok"),
      stop(0),
      messageDelta("end_turn", 1),
      messageStop,
    ]
      .map((e) => `data: ${JSON.stringify(e)}\n\n`)
      .join("");
    expect(assembleOpenAi(await run(dataOnly))).toMatchObject({ content: "ok", done: true, violations: [] });
  });

  it("reports usage once, marked unreported when the upstream sent none", async () => {
    const usages: (Usage | null)[] = [];
    await run([textStart(0), textDelta(0, "x"), stop(0), messageStop], { onUsage: (u) => usages.push(u) });
    expect(usages).toEqual([null]);
  });

  it("takes cumulative usage from message_delta when it carries input counts", async () => {
    const usages: (Usage | null)[] = [];
    await run(
      [
        messageStart({ input_tokens: 0, output_tokens: 0 }),
        {
          type: "message_delta",
          delta: { stop_reason: "end_turn" },
          usage: { input_tokens: 9, output_tokens: 4 },
        },
        messageStop,
      ],
      { onUsage: (u) => usages.push(u) },
    );
    expect(usages).toEqual([
      {
        inputTokens: 9,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 4,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });
});
