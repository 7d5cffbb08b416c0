import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { anthropicSseToOpenAiSse } from "../../../src/formats/translate/anthropic-to-openai-stream";
import { openAiSseToAnthropicSse } from "../../../src/formats/translate/openai-to-anthropic-stream";
import { chatCompletionToMessage, messageToChatCompletion } from "../../../src/formats/translate/responses";
import { translateSseStream } from "../../../src/formats/translate/sse";
import { anthropicSse, encoder, openAiSse, streamOf } from "./helpers";
import { interleavedTwoCalls } from "./interleaved";

/**
 * The real SDKs are the strictest readers of what we produce: openai-node's finalChatCompletion() throws on
 * a choice without a role or finish_reason and on tool calls without type or name; the Anthropic SDK's
 * MessageStream places blocks by index and throws on an `error` event. No network: `fetch` is replaced.
 */

function respond(body: ReadableStream<Uint8Array> | string, contentType: string): typeof fetch {
  return async () => new Response(body, { status: 200, headers: { "content-type": contentType } });
}

const openAiClient = (f: typeof fetch) =>
  new OpenAI({ apiKey: "k", baseURL: "http://gateway.test/v1", fetch: f, maxRetries: 0 });
const anthropicClient = (f: typeof fetch) =>
  new Anthropic({ apiKey: "k", baseURL: "http://gateway.test", fetch: f, maxRetries: 0 });

const anthropicUpstream = [
  {
    type: "message_start",
    message: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      content: [],
      usage: { input_tokens: 20, output_tokens: 1 },
    },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking." } },
  { type: "content_block_stop", index: 0 },
  {
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_a", name: "weather", input: {} },
  },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city":' } },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"Paris"}' } },
  { type: "content_block_stop", index: 1 },
  {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_b", name: "clock", input: {} },
  },
  { type: "content_block_stop", index: 2 },
  {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 30 },
  },
  { type: "message_stop" },
];

const openAiUpstream = [
  {
    id: "c",
    choices: [{ index: 0, delta: { role: "assistant", content: "Checking." }, finish_reason: null }],
  },
  {
    id: "c",
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 0,
              id: "call_a",
              type: "function",
              function: { name: "weather", arguments: '{"city":' },
            },
          ],
        },
        finish_reason: null,
      },
    ],
  },
  {
    id: "c",
    choices: [
      {
        index: 0,
        delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
        finish_reason: null,
      },
    ],
  },
  {
    id: "c",
    choices: [
      {
        index: 0,
        delta: {
          tool_calls: [
            { index: 1, id: "call_b", type: "function", function: { name: "clock", arguments: "" } },
          ],
        },
        finish_reason: null,
      },
    ],
  },
  { id: "c", choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
  { id: "c", choices: [], usage: { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 } },
  "[DONE]" as const,
];

describe("openai-node reads what the Anthropic → OpenAI translators produce", () => {
  it("streams into a complete chat completion", async () => {
    const body = translateSseStream(
      streamOf([encoder.encode(anthropicSse(anthropicUpstream))]),
      anthropicSseToOpenAiSse({ includeUsage: true, model: "gw/claude" }),
    );
    const client = openAiClient(respond(body, "text/event-stream"));
    const stream = client.chat.completions.stream({
      model: "gw/claude",
      messages: [{ role: "user", content: "weather?" }],
      stream_options: { include_usage: true },
    });
    const completion = await stream.finalChatCompletion();
    expect(completion.choices[0]?.message).toMatchObject({
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        { id: "toolu_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        { id: "toolu_b", type: "function", function: { name: "clock", arguments: "" } },
      ],
    });
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(completion.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 });
  });

  it("throws on a translated mid-stream error instead of ending cleanly", async () => {
    const cut = anthropicSse(anthropicUpstream.slice(0, 3));
    const body = translateSseStream(
      streamOf([encoder.encode(cut)]),
      anthropicSseToOpenAiSse({ includeUsage: false, model: "m" }),
    );
    const client = openAiClient(respond(body, "text/event-stream"));
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const read = async () => {
      for await (const _ of stream) void _;
    };
    await expect(read()).rejects.toThrow(/ended before message_stop/);
  });

  it("parses a translated non-streaming response", async () => {
    const translated = messageToChatCompletion(
      {
        id: "msg_1",
        content: [{ type: "text", text: "hi" }],
        stop_reason: "end_turn",
        usage: { input_tokens: 1, output_tokens: 2 },
      },
      { model: "m" },
    );
    if (!translated.ok) throw new Error(translated.message);
    const client = openAiClient(respond(JSON.stringify(translated.value), "application/json"));
    const completion = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
    expect(completion.choices[0]?.message.content).toBe("hi");
  });
});

describe("@anthropic-ai/sdk reads what the OpenAI → Anthropic translators produce", () => {
  it("streams into a complete message", async () => {
    const body = translateSseStream(
      streamOf([encoder.encode(openAiSse(openAiUpstream))]),
      openAiSseToAnthropicSse({ model: "gw/gpt" }),
    );
    const client = anthropicClient(respond(body, "text/event-stream"));
    const stream = client.messages.stream({
      model: "gw/gpt",
      max_tokens: 100,
      messages: [{ role: "user", content: "weather?" }],
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "call_a", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_b", name: "clock", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 30 });
  });

  it("assembles tool calls whose argument fragments the upstream interleaved", async () => {
    const body = translateSseStream(
      streamOf([encoder.encode(openAiSse(interleavedTwoCalls))]),
      openAiSseToAnthropicSse({ model: "gw/gpt" }),
    );
    const client = anthropicClient(respond(body, "text/event-stream"));
    const stream = client.messages.stream({
      model: "gw/gpt",
      max_tokens: 100,
      messages: [{ role: "user", content: "weather in two places?" }],
    });
    const message = await stream.finalMessage();
    expect(message.content).toEqual([
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "emulated" } },
      { type: "tool_use", id: "call_2", name: "get_weather", input: { city: "emulated" } },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 20, output_tokens: 24 });
  });

  it("throws on a translated mid-stream error", async () => {
    const cut = openAiSse(openAiUpstream.slice(0, 2));
    const body = translateSseStream(streamOf([encoder.encode(cut)]), openAiSseToAnthropicSse({ model: "m" }));
    const client = anthropicClient(respond(body, "text/event-stream"));
    const stream = client.messages.stream({
      model: "m",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/ended before the response was complete/);
  });

  it("parses a translated non-streaming response", async () => {
    const translated = chatCompletionToMessage(
      {
        id: "c",
        choices: [{ message: { content: "hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 1 },
      },
      { model: "m" },
    );
    if (!translated.ok) throw new Error(translated.message);
    const client = anthropicClient(respond(JSON.stringify(translated.value), "application/json"));
    const message = await client.messages.create({
      model: "m",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "hi" }]);
    expect(message.usage.input_tokens).toBe(3);
  });
});
