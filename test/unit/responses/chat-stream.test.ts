import { describe, expect, it } from "vitest";
import { chatSseToResponsesSse } from "../../../src/formats/responses/chat-stream";
import { responseEcho } from "../../../src/formats/responses/request";
import type { Usage } from "../../../src/formats/usage";
import { openAiSse, translate } from "../translate/helpers";
import { checkResponsesStream } from "./helpers";

const echo = responseEcho({ instructions: "be brief" });
const opts = (onUsage?: (u: Usage | null) => void) => ({
  model: "m",
  echo,
  responseId: "resp_test",
  createdAt: 1000,
  ...(onUsage ? { onUsage } : {}),
});

const chunk = (delta: object, finish: string | null = null) => ({
  id: "c1",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = {
  id: "c1",
  choices: [],
  usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
};

const run = (frames: (object | "[DONE]")[], onUsage?: (u: Usage | null) => void) =>
  translate(openAiSse(frames), chatSseToResponsesSse(opts(onUsage))).then(checkResponsesStream);

describe("chat chunks → Responses events", () => {
  it("text: the full event sequence, completed with usage; usage reported once", async () => {
    const reports: (Usage | null)[] = [];
    const s = await run(
      [
        chunk({ role: "assistant", content: "" }),
        chunk({ content: "Hel" }),
        chunk({ content: "lo" }),
        chunk({}, "stop"),
        usageChunk,
        "[DONE]",
      ],
      (u) => reports.push(u),
    );
    expect(s.violations).toEqual([]);
    expect(s.types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const response = s.terminal?.response as Record<string, unknown>;
    expect(response).toMatchObject({
      id: "resp_test",
      object: "response",
      created_at: 1000,
      status: "completed",
      model: "m",
      instructions: "be brief",
      error: null,
      incomplete_details: null,
      usage: {
        input_tokens: 11,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 16,
      },
      output: [
        {
          id: "msg_test_1",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }],
        },
      ],
    });
    expect(reports).toEqual([
      {
        inputTokens: 11,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 5,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("interleaved tool calls: one function_call item each, arguments complete, call ids kept", async () => {
    const s = await run([
      chunk({ role: "assistant", content: null }),
      chunk({
        tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "" } }],
      }),
      chunk({
        tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "g", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"b":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "2}" } }] }),
      chunk({}, "tool_calls"),
      usageChunk,
      "[DONE]",
    ]);
    expect(s.violations).toEqual([]);
    expect(s.items).toEqual([
      {
        id: "fc_test_1",
        type: "function_call",
        status: "completed",
        call_id: "call_a",
        name: "f",
        arguments: '{"a":1}',
      },
      {
        id: "fc_test_2",
        type: "function_call",
        status: "completed",
        call_id: "call_b",
        name: "g",
        arguments: '{"b":2}',
      },
    ]);
    expect(s.terminal?.type).toBe("response.completed");
  });

  it("keeps arguments that arrive before the tool's name", async () => {
    const s = await run([
      chunk({ role: "assistant" }),
      chunk({ tool_calls: [{ index: 0, id: "call_x", function: { arguments: '{"q"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: "search", arguments: ':"x"}' } }] }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    expect(s.violations).toEqual([]);
    expect(s.items).toEqual([
      expect.objectContaining({ name: "search", call_id: "call_x", arguments: '{"q":"x"}' }),
    ]);
  });

  it("reasoning, then text, then a tool call: three items in order", async () => {
    const s = await run([
      chunk({ role: "assistant", reasoning_content: "think" }),
      chunk({ reasoning_content: "ing" }),
      chunk({ content: "Let me look." }),
      chunk({
        tool_calls: [{ index: 0, id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
      }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    expect(s.violations).toEqual([]);
    expect(s.items.map((i) => i.type)).toEqual(["reasoning", "message", "function_call"]);
    expect(s.items[0]).toEqual({
      id: "rs_test_1",
      type: "reasoning",
      status: "completed",
      summary: [{ type: "summary_text", text: "thinking" }],
    });
  });

  it("finish_reason length → response.incomplete (max_output_tokens), items incomplete", async () => {
    const s = await run([
      chunk({ role: "assistant", content: "cut" }),
      chunk({}, "length"),
      usageChunk,
      "[DONE]",
    ]);
    expect(s.violations).toEqual([]);
    expect(s.terminal).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
    expect(s.items[0]?.status).toBe("incomplete");
  });

  it("a finish_reason and a clean end without [DONE] is complete; usage unreported", async () => {
    const reports: (Usage | null)[] = [];
    const s = await run([chunk({ role: "assistant", content: "x" }), chunk({}, "stop")], (u) =>
      reports.push(u),
    );
    expect(s.violations).toEqual([]);
    expect(s.terminal?.type).toBe("response.completed");
    expect(reports).toEqual([null]);
  });

  it.each([
    [
      "an upstream error frame",
      [chunk({ content: "a" }), { error: { message: "boom", type: "server_error" } }],
      /boom/,
    ],
    [
      "a stream that ends before a finish_reason",
      [chunk({ role: "assistant", content: "a" })],
      /ended before/,
    ],
    ["an unparsable chunk", [chunk({ content: "a" }), "not json" as unknown as object], /not valid JSON/],
  ])("%s → response.failed then error, nothing after", async (_n, frames, message) => {
    const raw = frames.map((f) =>
      typeof f === "string" ? `data: ${f}\n\n` : `data: ${JSON.stringify(f)}\n\n`,
    );
    const s = checkResponsesStream(await translate(raw.join(""), chatSseToResponsesSse(opts())));
    expect(s.violations).toEqual([]);
    expect(s.types.slice(-2)).toEqual(["response.failed", "error"]);
    expect(s.terminal).toMatchObject({ response: { status: "failed", error: { message } } });
    expect(s.error).toMatchObject({ message, error: { message } });
  });

  it("writes nothing after an upstream error, even if the upstream goes on", async () => {
    const text = await translate(
      openAiSse([chunk({ content: "a" }), { error: { message: "x" } }, chunk({ content: "b" }), "[DONE]"]),
      chatSseToResponsesSse(opts()),
    );
    const s = checkResponsesStream(text);
    expect(s.violations).toEqual([]);
    expect(s.types.at(-1)).toBe("error");
    expect(text).not.toContain('"delta":"b"');
  });
});
