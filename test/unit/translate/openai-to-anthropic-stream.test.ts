import { describe, expect, it } from "vitest";
import { openAiSseToAnthropicSse } from "../../../src/formats/translate/openai-to-anthropic-stream";
import { translateSseStream } from "../../../src/formats/translate/sse";
import type { Usage } from "../../../src/formats/usage";
import {
  assembleAnthropic,
  encoder,
  failingStreamOf,
  openAiSse,
  parseSse,
  readAll,
  splitBytes,
  translate,
  type AssembledBlock,
} from "./helpers";
import { interleavedTwoCalls } from "./interleaved";

type Delta = Record<string, unknown>;
const chunk = (delta: Delta, finish_reason: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt",
  choices: [{ index: 0, delta, finish_reason }],
  ...extra,
});
const role = chunk({ role: "assistant", content: "" });
const text = (content: string) => chunk({ content });
const toolStart = (index: number, id: string, name: string) =>
  chunk({ tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] });
const args = (index: number, fragment: string) =>
  chunk({ tool_calls: [{ index, function: { arguments: fragment } }] });
const finish = (reason: string) => chunk({}, reason);
const usage = (prompt: number, completion: number, cached = 0) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  },
});

function run(frames: (object | "[DONE]")[] | string, onUsage?: (u: Usage | null) => void) {
  const input = typeof frames === "string" ? frames : openAiSse(frames);
  return translate(
    input,
    openAiSseToAnthropicSse({ model: "claude-client", messageId: "msg_test", onUsage }),
  );
}

/**
 * Feeds frames one at a time and returns, per frame, what the translator wrote in response, compactly
 * (`start 1 tool_use call_b get_weather`, `delta 1 {"ci`, `stop 1`, or the event type): shows what is
 * streamed live and what is held back.
 */
async function emittedPerFrame(frames: (object | "[DONE]")[]): Promise<string[][]> {
  const translator = openAiSseToAnthropicSse({ model: "claude-client", messageId: "msg_test" });
  const writer = translator.writable.getWriter();
  const reader = translator.readable.getReader();
  const seen: string[] = [];
  const reading = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen.push(r.value);
  })();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  await settle();
  const perFrame: string[][] = [];
  for (const frame of frames) {
    const before = seen.length;
    await writer.write({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
    await settle();
    perFrame.push(seen.slice(before).flatMap((text) => parseSse(text).map(describeEvent)));
  }
  await writer.close();
  await reading;
  return perFrame;
}

function describeEvent(ev: { data: string }): string {
  const e = JSON.parse(ev.data) as {
    type: string;
    index?: number;
    content_block?: { type: string; id?: string; name?: string };
    delta?: { partial_json?: string; text?: string };
  };
  if (e.type === "content_block_start") {
    const b = e.content_block;
    return [`start ${e.index}`, b?.type, b?.id, b?.name].filter((x) => x !== undefined).join(" ");
  }
  if (e.type === "content_block_delta") return `delta ${e.index} ${e.delta?.partial_json ?? e.delta?.text}`;
  if (e.type === "content_block_stop") return `stop ${e.index}`;
  return e.type;
}

/** Tool inputs as a client assembles them: the concatenated partial_json of each block, parsed. */
function toolInputs(blocks: AssembledBlock[]) {
  return blocks.map((b) =>
    b.type === "tool_use" ? { id: b.id, name: b.name, input: JSON.parse(b.json) as unknown } : b,
  );
}

describe("openAiSseToAnthropicSse", () => {
  it("sends message_start before the upstream says anything", async () => {
    const translator = openAiSseToAnthropicSse({ model: "m", messageId: "msg_1" });
    const reader = translator.readable.getReader();
    const first = await reader.read();
    expect(first.value).toBe(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n',
    );
    await reader.cancel();
  });

  it("translates a text stream and holds message_delta until the usage chunk", async () => {
    const out = await run([
      role,
      text("Hel"),
      text(""),
      text("lo"),
      finish("stop"),
      usage(12, 3, 4),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([{ type: "text", text: "Hello" }]);
    expect(a.stopReason).toBe("end_turn");
    expect(a.usage).toEqual({
      input_tokens: 8,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 4,
    });
    const types = parseSse(out).map((e) => e.event);
    expect(types).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("opens one block per tool-call index, stopping the previous block first, losing no fragment", async () => {
    const out = await run([
      role,
      text("Checking both."),
      // The first fragment of a new call rides with the call's id and name.
      chunk({
        tool_calls: [
          { index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: '{"ci' } },
        ],
      }),
      args(0, 'ty":"Paris"}'),
      chunk({
        tool_calls: [
          { index: 1, id: "call_b", type: "function", function: { name: "weather", arguments: '{"city"' } },
        ],
      }),
      args(1, ':"Rome"}'),
      finish("tool_calls"),
      usage(30, 20),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "call_a", name: "weather", json: '{"city":"Paris"}' },
      { type: "tool_use", id: "call_b", name: "weather", json: '{"city":"Rome"}' },
    ]);
    expect(a.stopReason).toBe("tool_use");
  });

  it("handles several tool-call starts in one chunk", async () => {
    const out = await run([
      role,
      chunk({
        tool_calls: [
          { index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "{}" } },
          { index: 1, id: "call_b", type: "function", function: { name: "g", arguments: '{"x":1}' } },
        ],
      }),
      finish("tool_calls"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "call_a", name: "f", json: "{}" },
      { type: "tool_use", id: "call_b", name: "g", json: '{"x":1}' },
    ]);
  });

  it("waits for a tool call's name before starting its block, keeping early arguments", async () => {
    const out = await run([
      chunk({ tool_calls: [{ index: 0, id: "call_a", function: { arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: "late", arguments: ":1}" } }] }),
      finish("tool_calls"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([{ type: "tool_use", id: "call_a", name: "late", json: '{"a":1}' }]);
  });

  it("keys calls by id when a server omits the index", async () => {
    const out = await run([
      chunk({ tool_calls: [{ id: "call_a", function: { name: "f", arguments: '{"n":1}' } }] }),
      chunk({ tool_calls: [{ id: "call_b", function: { name: "f", arguments: '{"n":' } }] }),
      chunk({ tool_calls: [{ function: { arguments: "2}" } }] }),
      finish("tool_calls"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "call_a", name: "f", json: '{"n":1}' },
      { type: "tool_use", id: "call_b", name: "f", json: '{"n":2}' },
    ]);
  });

  it("switches between text and tool blocks as the kind of delta changes", async () => {
    const out = await run([
      text("a"),
      toolStart(0, "c1", "f"),
      args(0, "{}"),
      text("b"),
      finish("stop"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks.map((b) => b.type)).toEqual(["text", "tool_use", "text"]);
    expect(a.stopReason).toBe("tool_use");
  });

  it("assembles two tool calls whose argument fragments are interleaved (emulator tool_calls=2)", async () => {
    const a = assembleAnthropic(await run(interleavedTwoCalls));
    expect(a.violations).toEqual([]);
    expect(a.error).toBeNull();
    expect(toolInputs(a.blocks)).toEqual([
      { id: "call_1", name: "get_weather", input: { city: "emulated" } },
      { id: "call_2", name: "get_weather", input: { city: "emulated" } },
    ]);
    expect(a.stopReason).toBe("tool_use");
    expect(a.stopped).toBe(true);
  });

  it("streams the open call's fragments live and holds the other call's until the open one is complete", async () => {
    expect(await emittedPerFrame(interleavedTwoCalls)).toEqual([
      [],
      ["start 0 tool_use call_1 get_weather"],
      [], // call_2 waits: call_1's arguments are not complete yet
      ['delta 0 {"city'],
      [],
      ['delta 0 ":"emulated"}', "stop 0", "start 1 tool_use call_2 get_weather", 'delta 1 {"city'],
      ['delta 1 ":"emulated"}'],
      ["stop 1"],
      ["message_delta", "message_stop"],
      [],
    ]);
  });

  it("assembles three tool calls interleaved round-robin", async () => {
    const calls = [0, 1, 2];
    const a = assembleAnthropic(
      await run([
        chunk({ role: "assistant", content: null }),
        ...calls.map((i) => toolStart(i, `call_${i + 1}`, i === 2 ? "get_time" : "get_weather")),
        ...calls.map((i) => args(i, "{")),
        ...calls.map((i) => args(i, '"city"')),
        ...calls.map((i) => args(i, ':"emul')),
        ...calls.map((i) => args(i, 'ated"}')),
        finish("tool_calls"),
        usage(40, 30),
        "[DONE]",
      ]),
    );
    expect(a.violations).toEqual([]);
    expect(a.error).toBeNull();
    expect(toolInputs(a.blocks)).toEqual([
      { id: "call_1", name: "get_weather", input: { city: "emulated" } },
      { id: "call_2", name: "get_weather", input: { city: "emulated" } },
      { id: "call_3", name: "get_time", input: { city: "emulated" } },
    ]);
    expect(a.stopReason).toBe("tool_use");
  });

  it("still streams each call live when the upstream sends them one after the other", async () => {
    expect(
      await emittedPerFrame([
        toolStart(0, "call_a", "f"),
        args(0, '{"n":'),
        args(0, "1}"),
        toolStart(1, "call_b", "g"),
        args(1, '{"n":'),
        args(1, "2}"),
        finish("tool_calls"),
        "[DONE]",
      ]),
    ).toEqual([
      ["start 0 tool_use call_a f"],
      ['delta 0 {"n":'],
      ["delta 0 1}"],
      ["stop 0", "start 1 tool_use call_b g"],
      ['delta 1 {"n":'],
      ["delta 1 2}"],
      ["stop 1"],
      ["message_delta", "message_stop"],
    ]);
  });

  it("keeps waiting calls in order of first appearance and starts each once its name is known", async () => {
    const a = assembleAnthropic(
      await run([
        toolStart(0, "call_a", "f"),
        chunk({ tool_calls: [{ index: 1, id: "call_b", function: { arguments: '{"b"' } }] }),
        toolStart(2, "call_c", "h"),
        args(2, '{"c":3}'),
        args(0, '{"a":1}'), // call_b has no name yet, so call_c may not go before it
        chunk({ tool_calls: [{ index: 1, function: { name: "g", arguments: ":2}" } }] }),
        finish("tool_calls"),
        "[DONE]",
      ]),
    );
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "call_a", name: "f", json: '{"a":1}' },
      { type: "tool_use", id: "call_b", name: "g", json: '{"b":2}' },
      { type: "tool_use", id: "call_c", name: "h", json: '{"c":3}' },
    ]);
  });

  it("gives a call that never gets complete arguments its buffered fragments at the finish_reason", async () => {
    const a = assembleAnthropic(
      await run([
        toolStart(0, "call_a", "f"),
        toolStart(1, "call_b", "g"),
        args(1, '{"b":2}'),
        args(0, '{"a":'), // truncated: call_a never completes, so call_b waits until the end
        finish("length"),
        "[DONE]",
      ]),
    );
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "call_a", name: "f", json: '{"a":' },
      { type: "tool_use", id: "call_b", name: "g", json: '{"b":2}' },
    ]);
    expect(a.stopReason).toBe("max_tokens");
  });

  it("emits waiting calls before a text delta that follows them", async () => {
    expect(
      await emittedPerFrame([
        toolStart(0, "call_a", "f"),
        toolStart(1, "call_b", "g"),
        args(1, '{"b":2}'),
        args(0, '{"a":'),
        text("done"),
        finish("stop"),
        "[DONE]",
      ]),
    ).toEqual([
      ["start 0 tool_use call_a f"],
      [],
      [],
      ['delta 0 {"a":'],
      ["stop 0", "start 1 tool_use call_b g", 'delta 1 {"b":2}', "stop 1", "start 2 text", "delta 2 done"],
      ["stop 2"],
      ["message_delta", "message_stop"],
    ]);
  });

  it("accepts whitespace for a call whose complete arguments were already stopped", async () => {
    const a = assembleAnthropic(
      await run([
        toolStart(0, "c1", "f"),
        args(0, "{}"),
        toolStart(1, "c2", "g"),
        args(0, " \n"),
        args(1, "{}"),
        finish("tool_calls"),
      ]),
    );
    expect(a.violations).toEqual([]);
    expect(a.error).toBeNull();
    expect(a.blocks.map((b) => (b.type === "tool_use" ? b.json : ""))).toEqual(["{}", "{}"]);
  });

  it("refuses fragments for a tool call whose block was already stopped, with an error", async () => {
    // Only text (or thinking) between a call's fragments can stop its block early; no known server does it.
    const out = await run([
      toolStart(0, "c1", "f"),
      args(0, '{"a"'),
      text("meanwhile"),
      args(0, ":1}"),
      finish("tool_calls"),
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "c1", name: "f", json: '{"a"' },
      { type: "text", text: "meanwhile" },
    ]);
    expect(a.error?.type).toBe("api_error");
    expect(a.error?.message).toContain("interleaved");
  });

  it("maps reasoning_content and Databricks reasoning parts to a thinking block", async () => {
    const out = await run([
      chunk({ role: "assistant", reasoning_content: "Let me" }),
      chunk({ reasoning_content: " think." }),
      chunk({
        content: [{ type: "reasoning", summary: [{ type: "summary_text", text: "", signature: "sig1" }] }],
      }),
      chunk({ content: [{ type: "text", text: "42" }] }),
      finish("stop"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "thinking", thinking: "Let me think.", signature: "sig1" },
      { type: "text", text: "42" },
    ]);
  });

  it("finishes at once when usage rides on the finish chunk, and ignores what follows", async () => {
    const out = await run([
      text("hi"),
      chunk({}, "length", { usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
      text("ignored"),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([{ type: "text", text: "hi" }]);
    expect(a.stopReason).toBe("max_tokens");
    expect(a.usage).toMatchObject({ input_tokens: 5, output_tokens: 2 });
  });

  it("does not finish on usage that comes before the finish_reason (continuous usage stats)", async () => {
    const out = await run([
      chunk({ content: "a" }, null, { usage: { prompt_tokens: 5, completion_tokens: 1 } }),
      chunk({ content: "b" }, null, { usage: { prompt_tokens: 5, completion_tokens: 2 } }),
      chunk({}, "stop", { usage: { prompt_tokens: 5, completion_tokens: 3 } }),
      "[DONE]",
    ]);
    const a = assembleAnthropic(out);
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([{ type: "text", text: "ab" }]);
    expect(a.usage).toMatchObject({ input_tokens: 5, output_tokens: 3 });
  });

  it("ends normally on [DONE] without a usage chunk, and on a clean end after the finish_reason", async () => {
    const usages: (Usage | null)[] = [];
    const a = assembleAnthropic(await run([text("x"), finish("stop"), "[DONE]"], (u) => usages.push(u)));
    expect(a).toMatchObject({ stopReason: "end_turn", stopped: true, violations: [] });
    expect(usages).toEqual([null]);
    const b = assembleAnthropic(await run([text("x"), finish("stop")]));
    expect(b).toMatchObject({ stopReason: "end_turn", stopped: true, violations: [] });
  });

  it("ends a stream cut before any finish_reason or [DONE] with an error event", async () => {
    const usages: (Usage | null)[] = [];
    const a = assembleAnthropic(await run([role, text("half")], (u) => usages.push(u)));
    expect(a.blocks).toEqual([{ type: "text", text: "half" }]);
    expect(a.stopped).toBe(false);
    expect(a.error).toEqual({
      type: "api_error",
      message: "upstream stream ended before the response was complete",
    });
    expect(a.violations).toEqual([]);
    expect(usages).toHaveLength(1);
  });

  it("relays upstream errors in data or as an error event, as overloaded_error when it is one", async () => {
    const inData = assembleAnthropic(
      await run([
        text("a"),
        { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } },
      ]),
    );
    expect(inData.error).toEqual({ type: "overloaded_error", message: "upstream error: Rate limit reached" });
    const asEvent = assembleAnthropic(await run('event: error\ndata: {"message":"boom"}\n\n'));
    expect(asEvent.error).toEqual({ type: "api_error", message: "upstream error: boom" });
    const plainText = assembleAnthropic(await run("event: error\ndata: gateway timeout\n\n"));
    expect(plainText.error).toEqual({ type: "api_error", message: "upstream error: gateway timeout" });
  });

  it("answers malformed JSON and malformed chunks with an error event", async () => {
    expect(assembleAnthropic(await run("data: {nope\n\n")).error?.type).toBe("api_error");
    expect(assembleAnthropic(await run([{ choices: "many" }])).error?.type).toBe("api_error");
  });

  it("never passes [DONE] to JSON.parse, even with stray whitespace", async () => {
    const a = assembleAnthropic(await run(`${openAiSse([text("x"), finish("stop")])}data:  [DONE] \n\n`));
    expect(a).toMatchObject({ stopped: true, error: null });
  });

  it("turns a refusal into text", async () => {
    const a = assembleAnthropic(await run([chunk({ refusal: "No." }), finish("content_filter"), "[DONE]"]));
    expect(a.blocks).toEqual([{ type: "text", text: "No." }]);
    expect(a.stopReason).toBe("refusal");
  });

  it("reads only choice 0", async () => {
    const other = { id: "x", choices: [{ index: 1, delta: { content: "other" }, finish_reason: null }] };
    const a = assembleAnthropic(await run([text("mine"), other, finish("stop"), "[DONE]"]));
    expect(a.blocks).toEqual([{ type: "text", text: "mine" }]);
  });

  it("turns an upstream body that fails mid-stream into an in-band error", async () => {
    const bytes = encoder.encode(openAiSse([role, text("partial")]));
    const body = failingStreamOf(splitBytes(bytes, [7, 40]));
    const out = await readAll(
      translateSseStream(body, openAiSseToAnthropicSse({ model: "m", messageId: "msg_1" })),
    );
    const a = assembleAnthropic(out);
    expect(a.blocks).toEqual([{ type: "text", text: "partial" }]);
    expect(a.error?.type).toBe("api_error");
  });
});
