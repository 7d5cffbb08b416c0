import { describe, expect, it } from "vitest";
import { chatCompletionToMessage, messageToChatCompletion } from "../../../src/formats/translate/responses";
import {
  finishReasonFromStopReason,
  stopReasonFromFinishReason,
} from "../../../src/formats/translate/mapping";

const opts = { model: "client-model", created: 1_700_000_000 };

const anthropicMessage = {
  id: "msg_01",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4",
  content: [
    { type: "thinking", thinking: "Let me think.", signature: "sig" },
    { type: "text", text: "Sure, " },
    { type: "text", text: "checking.", citations: [] },
    { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
    { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
    { type: "redacted_thinking", data: "xyz" },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: {
    input_tokens: 100,
    output_tokens: 20,
    cache_creation_input_tokens: 10,
    cache_read_input_tokens: 30,
  },
};

describe("messageToChatCompletion", () => {
  it("translates text, tool calls, reasoning, finish reason and usage", () => {
    const result = messageToChatCompletion(anthropicMessage, opts);
    expect(result).toEqual({
      ok: true,
      usage: {
        inputTokens: 140,
        cacheReadTokens: 30,
        cacheWriteTokens: 10,
        outputTokens: 20,
        reasoningTokens: 0,
        estimated: false,
      },
      value: {
        id: "msg_01",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "client-model",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: "Sure, checking.",
              refusal: null,
              reasoning_content: "Let me think.",
              tool_calls: [
                {
                  id: "toolu_1",
                  type: "function",
                  function: { name: "weather", arguments: '{"city":"Paris"}' },
                },
              ],
            },
            logprobs: null,
            finish_reason: "tool_calls",
          },
        ],
        usage: {
          prompt_tokens: 140,
          completion_tokens: 20,
          total_tokens: 160,
          prompt_tokens_details: { cached_tokens: 30 },
        },
      },
    });
  });

  it("answers null content when there are only tool calls, and an empty string when there is nothing", () => {
    const toolsOnly = messageToChatCompletion(
      { id: "m", content: [{ type: "tool_use", id: "t", name: "f", input: {} }], stop_reason: "tool_use" },
      opts,
    );
    expect(toolsOnly.ok && toolsOnly.value.choices[0]?.message.content).toBeNull();
    const empty = messageToChatCompletion({ id: "m", content: [], stop_reason: "end_turn" }, opts);
    expect(empty.ok && empty.value.choices[0]?.message).toEqual({
      role: "assistant",
      content: "",
      refusal: null,
    });
    expect(empty.ok && empty.value.usage).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it("reports a malformed upstream body instead of throwing", () => {
    expect(messageToChatCompletion({ content: "nope" }, opts)).toMatchObject({ ok: false, param: "content" });
    expect(messageToChatCompletion(null, opts).ok).toBe(false);
    expect(messageToChatCompletion({ content: [{ type: "text" }] }, opts).ok).toBe(false);
  });
});

describe("chatCompletionToMessage", () => {
  const completion = {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-x",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
            { id: "call_2", type: "function", function: { name: "weather", arguments: "{bad" } },
          ],
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: {
      prompt_tokens: 50,
      completion_tokens: 9,
      total_tokens: 59,
      prompt_tokens_details: { cached_tokens: 20 },
    },
  };

  it("translates text, tool calls, stop reason and usage", () => {
    expect(chatCompletionToMessage(completion, opts)).toEqual({
      ok: true,
      usage: {
        inputTokens: 50,
        cacheReadTokens: 20,
        cacheWriteTokens: 0,
        outputTokens: 9,
        reasoningTokens: 0,
        estimated: false,
      },
      value: {
        id: "chatcmpl-1",
        type: "message",
        role: "assistant",
        model: "client-model",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_1", name: "weather", input: { city: "Rome" } },
          { type: "tool_use", id: "call_2", name: "weather", input: {} },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: {
          input_tokens: 30,
          output_tokens: 9,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 20,
        },
      },
    });
  });

  it("says tool_use when a server reports stop although it made tool calls", () => {
    const result = chatCompletionToMessage(
      {
        id: "c",
        choices: [
          {
            message: { content: null, tool_calls: [{ id: "a", function: { name: "f", arguments: "{}" } }] },
            finish_reason: "stop",
          },
        ],
      },
      opts,
    );
    expect(result.ok && result.value.stop_reason).toBe("tool_use");
  });

  it("turns reasoning into a leading thinking block, from reasoning_content or Databricks reasoning parts", () => {
    const plain = chatCompletionToMessage(
      {
        id: "c",
        choices: [{ message: { content: "42", reasoning_content: "think" }, finish_reason: "stop" }],
      },
      opts,
    );
    expect(plain.ok && plain.value.content).toEqual([
      { type: "thinking", thinking: "think", signature: "" },
      { type: "text", text: "42" },
    ]);
    const parts = chatCompletionToMessage(
      {
        id: "c",
        choices: [
          {
            message: {
              content: [
                { type: "reasoning", summary: [{ type: "summary_text", text: "deep", signature: "s1" }] },
                { type: "text", text: "answer" },
                { type: "mystery", x: 1 },
              ],
            },
            finish_reason: "stop",
          },
        ],
      },
      opts,
    );
    expect(parts.ok && parts.value.content).toEqual([
      { type: "thinking", thinking: "deep", signature: "s1" },
      { type: "text", text: "answer" },
    ]);
  });

  it("maps a refusal to refusal text and stop reason", () => {
    const result = chatCompletionToMessage(
      { id: "c", choices: [{ message: { content: null, refusal: "I can't help." }, finish_reason: "stop" }] },
      opts,
    );
    expect(result.ok && result.value).toMatchObject({
      content: [{ type: "text", text: "I can't help." }],
      stop_reason: "refusal",
    });
  });

  it("reports a body without choices, or a malformed one, instead of throwing", () => {
    expect(chatCompletionToMessage({ id: "c", choices: [] }, opts)).toMatchObject({ ok: false });
    expect(chatCompletionToMessage({ choices: [{ message: { content: 5 } }] }, opts)).toMatchObject({
      ok: false,
      param: "choices[0].message.content",
    });
    expect(chatCompletionToMessage("x", opts).ok).toBe(false);
  });
});

describe("stop_reason ⇄ finish_reason", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    [null, "stop"],
    ["something_new", "stop"],
    ["constructor", "stop"],
  ])("%s → %s", (stop, finish) => {
    expect(finishReasonFromStopReason(stop)).toBe(finish);
  });

  it.each([
    ["stop", false, "end_turn"],
    ["stop", true, "tool_use"],
    ["length", false, "max_tokens"],
    ["length", true, "max_tokens"],
    ["tool_calls", true, "tool_use"],
    ["function_call", true, "tool_use"],
    ["content_filter", false, "refusal"],
    [null, false, "end_turn"],
  ])("%s (tool calls: %s) → %s", (finish, tools, stop) => {
    expect(stopReasonFromFinishReason(finish, tools)).toBe(stop);
  });
});
