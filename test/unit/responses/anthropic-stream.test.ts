import { describe, expect, it } from "vitest";
import { anthropicSseToResponsesSse } from "../../../src/formats/responses/anthropic-stream";
import { responseEcho } from "../../../src/formats/responses/request";
import type { Usage } from "../../../src/formats/usage";
import { anthropicSse, translate } from "../translate/helpers";
import { checkResponsesStream } from "./helpers";

const echo = responseEcho({ tools: [{ type: "function", name: "weather" }], tool_choice: "auto" });
const opts = (onUsage?: (u: Usage | null) => void) => ({
  model: "claude",
  echo,
  responseId: "resp_ant",
  createdAt: 5,
  ...(onUsage ? { onUsage } : {}),
});

const start = {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    content: [],
    usage: { input_tokens: 20, cache_read_input_tokens: 5, output_tokens: 1 },
  },
};
const textBlock = (index: number, ...texts: string[]) => [
  { type: "content_block_start", index, content_block: { type: "text", text: "" } },
  ...texts.map((text) => ({ type: "content_block_delta", index, delta: { type: "text_delta", text } })),
  { type: "content_block_stop", index },
];
const toolBlock = (index: number, id: string, name: string, ...json: string[]) => [
  { type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } },
  ...json.map((partial_json) => ({
    type: "content_block_delta",
    index,
    delta: { type: "input_json_delta", partial_json },
  })),
  { type: "content_block_stop", index },
];
const end = (stop_reason: string, output_tokens = 9) => [
  { type: "message_delta", delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } },
  { type: "message_stop" },
];

type AntEvent = { type: string; [key: string]: unknown };

const run = (events: AntEvent[], onUsage?: (u: Usage | null) => void) =>
  translate(anthropicSse(events), anthropicSseToResponsesSse(opts(onUsage))).then(checkResponsesStream);

describe("Anthropic events → Responses events", () => {
  it("text then two tool calls: items in block order, arguments from input_json_delta, completed", async () => {
    const reports: (Usage | null)[] = [];
    const s = await run(
      [
        start,
        { type: "ping" },
        ...textBlock(0, "Checking", " now."),
        ...toolBlock(1, "toolu_a", "weather", '{"city":', '"Paris"}'),
        ...toolBlock(2, "toolu_b", "clock"),
        ...end("tool_use"),
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
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(s.items).toEqual([
      {
        id: "msg_ant_1",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Checking now.", annotations: [], logprobs: [] }],
      },
      {
        id: "fc_ant_2",
        type: "function_call",
        status: "completed",
        call_id: "toolu_a",
        name: "weather",
        arguments: '{"city":"Paris"}',
      },
      {
        id: "fc_ant_3",
        type: "function_call",
        status: "completed",
        call_id: "toolu_b",
        name: "clock",
        arguments: "",
      },
    ]);
    expect(s.terminal).toMatchObject({
      response: {
        status: "completed",
        model: "claude",
        tools: [{ type: "function", name: "weather" }],
        usage: {
          input_tokens: 25,
          input_tokens_details: { cached_tokens: 5 },
          output_tokens: 9,
          total_tokens: 34,
        },
      },
    });
    expect(reports).toEqual([
      {
        inputTokens: 25,
        cacheReadTokens: 5,
        cacheWriteTokens: 0,
        outputTokens: 9,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("thinking becomes a reasoning item with summary text", async () => {
    const s = await run([
      start,
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } },
      { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } },
      { type: "content_block_stop", index: 0 },
      ...textBlock(1, "Answer"),
      ...end("end_turn"),
    ]);
    expect(s.violations).toEqual([]);
    expect(s.items[0]).toEqual({
      id: "rs_ant_1",
      type: "reasoning",
      status: "completed",
      summary: [{ type: "summary_text", text: "hmm" }],
    });
    expect(s.items[1]?.type).toBe("message");
  });

  it.each([
    ["max_tokens", "max_output_tokens"],
    ["model_context_window_exceeded", "max_output_tokens"],
    ["refusal", "content_filter"],
  ])("stop_reason %s → response.incomplete (%s)", async (stop, reason) => {
    const s = await run([start, ...textBlock(0, "x"), ...end(stop)]);
    expect(s.violations).toEqual([]);
    expect(s.terminal).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason } },
    });
  });

  it("an upstream error event → response.failed + error naming it, nothing after", async () => {
    const s = await run([
      start,
      ...textBlock(0, "partial"),
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      ...end("end_turn"),
    ]);
    expect(s.violations).toEqual([]);
    expect(s.types.slice(-2)).toEqual(["response.failed", "error"]);
    expect(s.terminal).toMatchObject({
      response: {
        status: "failed",
        error: { code: "rate_limit_exceeded", message: "upstream error: Overloaded" },
      },
    });
    expect(s.error).toMatchObject({
      code: "overloaded_error",
      error: { message: "upstream error: Overloaded" },
    });
    // What was produced before the failure stays in the failed response's output.
    expect((s.terminal?.response as { output: unknown[] }).output).toHaveLength(1);
  });

  it("a stream cut before message_stop → response.failed (stream_truncated)", async () => {
    const reports: (Usage | null)[] = [];
    const s = await run([start, ...toolBlock(0, "toolu_a", "weather", '{"ci')].slice(0, -1), (u) =>
      reports.push(u),
    );
    expect(s.violations).toEqual([]);
    expect(s.error).toMatchObject({ code: "stream_truncated" });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.inputTokens).toBe(25);
  });

  it("a malformed known event → response.failed", async () => {
    const s = await run([start, { type: "content_block_start", index: "zero" }]);
    expect(s.violations).toEqual([]);
    expect(s.error).toMatchObject({ code: "malformed_upstream_event" });
  });
});
