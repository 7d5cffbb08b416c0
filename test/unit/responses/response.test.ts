import { describe, expect, it } from "vitest";
import { chatCompletionToResponse, messageToResponse } from "../../../src/formats/responses/response";
import { responseEcho } from "../../../src/formats/responses/request";

const opts = { model: "m", echo: responseEcho({ temperature: 0.5 }), responseId: "resp_r1", createdAt: 7 };

describe("chatCompletionToResponse", () => {
  it("reasoning, text and tool calls become items in that order, with usage", () => {
    const out = chatCompletionToResponse(
      {
        id: "c",
        choices: [
          {
            index: 0,
            message: {
              content: [
                { type: "reasoning", summary: [{ type: "summary_text", text: "plan" }] },
                { type: "text", text: "Calling." },
              ],
              tool_calls: [{ id: "call_1", function: { name: "f", arguments: "{}" } }],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } },
      },
      opts,
    );
    expect(out).toEqual({
      ok: true,
      usage: {
        inputTokens: 10,
        cacheReadTokens: 2,
        cacheWriteTokens: 0,
        outputTokens: 4,
        reasoningTokens: 0,
        estimated: false,
      },
      value: {
        id: "resp_r1",
        object: "response",
        created_at: 7,
        status: "completed",
        background: false,
        error: null,
        incomplete_details: null,
        model: "m",
        output: [
          {
            id: "rs_r1_1",
            type: "reasoning",
            status: "completed",
            summary: [{ type: "summary_text", text: "plan" }],
          },
          {
            id: "msg_r1_2",
            type: "message",
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text: "Calling.", annotations: [], logprobs: [] }],
          },
          {
            id: "fc_r1_3",
            type: "function_call",
            status: "completed",
            call_id: "call_1",
            name: "f",
            arguments: "{}",
          },
        ],
        previous_response_id: null,
        store: false,
        truncation: "disabled",
        usage: {
          input_tokens: 10,
          input_tokens_details: { cached_tokens: 2 },
          output_tokens: 4,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 14,
        },
        ...responseEcho({ temperature: 0.5 }),
      },
    });
  });

  it("length → incomplete with max_output_tokens; content_filter → content_filter", () => {
    const make = (finish_reason: string) =>
      chatCompletionToResponse({ choices: [{ message: { content: "x" }, finish_reason }] }, opts);
    expect(make("length")).toMatchObject({
      ok: true,
      value: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
    expect(make("content_filter")).toMatchObject({
      value: { status: "incomplete", incomplete_details: { reason: "content_filter" } },
    });
  });

  it("refuses a body that is not a chat completion", () => {
    expect(chatCompletionToResponse({ choices: [] }, opts).ok).toBe(false);
    expect(chatCompletionToResponse("nope", opts).ok).toBe(false);
  });
});

describe("messageToResponse", () => {
  it("maps text, tool_use (call_id = tool_use id, arguments = JSON) and stop reasons", () => {
    const out = messageToResponse(
      {
        id: "msg_1",
        content: [
          { type: "thinking", thinking: "hmm", signature: "s" },
          { type: "text", text: "ok" },
          { type: "tool_use", id: "toolu_1", name: "f", input: { a: 1 } },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 3, output_tokens: 2, cache_read_input_tokens: 1 },
      },
      opts,
    );
    expect(out.ok && out.value.output).toEqual([
      {
        id: "rs_r1_1",
        type: "reasoning",
        status: "completed",
        summary: [{ type: "summary_text", text: "hmm" }],
      },
      expect.objectContaining({ type: "message", content: [expect.objectContaining({ text: "ok" })] }),
      expect.objectContaining({ type: "function_call", call_id: "toolu_1", name: "f", arguments: '{"a":1}' }),
    ]);
    expect(out.ok && out.value.usage).toMatchObject({ input_tokens: 4, output_tokens: 2, total_tokens: 6 });
    const cut = messageToResponse(
      { content: [{ type: "text", text: "x" }], stop_reason: "max_tokens" },
      opts,
    );
    expect(cut.ok && cut.value.status).toBe("incomplete");
    expect(messageToResponse({ content: "x" }, opts).ok).toBe(false);
  });
});
