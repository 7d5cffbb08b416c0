import OpenAI, { APIError } from "openai";
import { describe, expect, it } from "vitest";
import {
  anthropicSseToResponsesSse,
  chatCompletionToResponse,
  chatSseToResponsesSse,
  messageToResponse,
  responseEcho,
} from "../../../src/formats/responses";
import { translateSseStream, type SseTranslator } from "../../../src/formats/translate/sse";
import { anthropicSse, encoder, openAiSse, streamOf } from "../translate/helpers";

/**
 * The real openai SDK reads what the translators write: responses.stream() builds its final response
 * from the events (ResponseStream + ResponseAccumulator), so an event out of place throws there. No
 * network: `fetch` is replaced.
 */

const shape = { model: "m", echo: responseEcho({}) };

function clientFor(body: () => BodyInit, contentType = "text/event-stream"): OpenAI {
  return new OpenAI({
    apiKey: "k",
    baseURL: "http://gateway.test/v1",
    maxRetries: 0,
    fetch: async () => new Response(body(), { status: 200, headers: { "content-type": contentType } }),
  });
}

const sseClient = (upstream: string, translator: () => SseTranslator) =>
  clientFor(() => translateSseStream(streamOf([encoder.encode(upstream)]), translator()));

const tools: OpenAI.Responses.Tool[] = [
  {
    type: "function",
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    strict: false,
  },
];

const anthropicToolTurn = anthropicSse([
  {
    type: "message_start",
    message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 12 } },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Let me check." } },
  { type: "content_block_stop", index: 0 },
  {
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_9", name: "get_weather", input: {} },
  },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city"' } },
  { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: ':"Paris"}' } },
  { type: "content_block_stop", index: 1 },
  { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 20 } },
  { type: "message_stop" },
] as { type: string }[]);

const chunk = (delta: object, finish: string | null = null) => ({
  id: "c",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

const chatToolTurn = openAiSse([
  chunk({ role: "assistant", content: null }),
  chunk({
    tool_calls: [
      { index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } },
    ],
  }),
  chunk({
    tool_calls: [
      { index: 1, id: "call_2", type: "function", function: { name: "get_weather", arguments: "" } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] }),
  chunk({}, "tool_calls"),
  { id: "c", choices: [], usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } },
  "[DONE]",
]);

describe("openai SDK responses.stream().finalResponse()", () => {
  it("assembles a function call with its arguments from an Anthropic upstream", async () => {
    const client = sseClient(anthropicToolTurn, () => anthropicSseToResponsesSse(shape));
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: "p/m", input: "weather in Paris?", tools });
    stream.on("response.function_call_arguments.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Let me check.");
    const calls = final.output.filter((o) => o.type === "function_call");
    expect(calls).toEqual([
      expect.objectContaining({ call_id: "toolu_9", name: "get_weather", arguments: '{"city":"Paris"}' }),
    ]);
    expect(JSON.parse(calls[0]?.arguments ?? "")).toEqual({ city: "Paris" });
    expect(deltas.join("")).toBe('{"city":"Paris"}');
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 20, total_tokens: 32 });
  });

  it("assembles interleaved function calls from an OpenAI chat upstream", async () => {
    const client = sseClient(chatToolTurn, () => chatSseToResponsesSse(shape));
    const final = await client.responses.stream({ model: "p/m", input: "two cities", tools }).finalResponse();
    expect(final.output.map((o) => (o.type === "function_call" ? [o.call_id, o.arguments] : o.type))).toEqual(
      [
        ["call_1", '{"city":"Paris"}'],
        ["call_2", '{"city":"Rome"}'],
      ],
    );
    expect(final.usage?.total_tokens).toBe(40);
  });

  it("streams text deltas with snapshots and ends with the full output_text", async () => {
    const client = sseClient(
      openAiSse([
        chunk({ role: "assistant", content: "Hel" }),
        chunk({ content: "lo!" }),
        chunk({}, "stop"),
        "[DONE]",
      ]),
      () => chatSseToResponsesSse(shape),
    );
    const snapshots: string[] = [];
    const stream = client.responses.stream({ model: "p/m", input: "hi" });
    stream.on("response.output_text.delta", (e) => snapshots.push(e.snapshot));
    const final = await stream.finalResponse();
    expect(snapshots).toEqual(["Hel", "Hello!"]);
    expect(final.output_text).toBe("Hello!");
  });

  it.each([
    [
      "an Anthropic upstream cut mid tool call",
      anthropicToolTurn.slice(0, anthropicToolTurn.indexOf("Paris")),
      "anthropic",
    ],
    [
      "an Anthropic upstream error event",
      anthropicToolTurn.replace(
        /event: message_delta[\s\S]*$/,
        'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"boom"}}\n\n',
      ),
      "anthropic",
    ],
    [
      "an OpenAI upstream cut",
      chatToolTurn.slice(0, chatToolTurn.indexOf('"finish_reason":"tool_calls"') - 60),
      "openai",
    ],
  ])("throws on %s, never a silent end", async (_n, upstream, format) => {
    const translator = () =>
      format === "anthropic" ? anthropicSseToResponsesSse(shape) : chatSseToResponsesSse(shape);
    const stream = sseClient(upstream, translator).responses.stream({ model: "p/m", input: "x", tools });
    await expect(stream.finalResponse()).rejects.toBeInstanceOf(APIError);

    // And plain iteration over responses.create({stream: true}) throws too.
    const events = await sseClient(upstream, translator).responses.create({
      model: "p/m",
      input: "x",
      stream: true,
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const ev of events) seen.push(ev.type);
      })(),
    ).rejects.toBeInstanceOf(APIError);
    expect(seen).toContain("response.failed");
  });
});

describe("openai SDK responses.create() (not streamed)", () => {
  it("reads a translated chat completion, output_text included", async () => {
    const out = chatCompletionToResponse(
      {
        id: "c",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: "Sure.",
              tool_calls: [
                {
                  id: "call_7",
                  type: "function",
                  function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
                },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      },
      shape,
    );
    if (!out.ok) throw new Error(out.message);
    const client = clientFor(() => JSON.stringify(out.value), "application/json");
    const res = await client.responses.create({ model: "p/m", input: "x", tools });
    expect(res.output_text).toBe("Sure.");
    expect(res.output[1]).toMatchObject({
      type: "function_call",
      call_id: "call_7",
      arguments: '{"city":"Oslo"}',
    });
    expect(res.usage?.total_tokens).toBe(7);
  });

  it("reads a translated Anthropic message", async () => {
    const out = messageToResponse(
      {
        id: "msg",
        content: [
          { type: "text", text: "Hi" },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Rome" } },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 5, output_tokens: 6 },
      },
      shape,
    );
    if (!out.ok) throw new Error(out.message);
    const res = await clientFor(() => JSON.stringify(out.value), "application/json").responses.create({
      model: "p/m",
      input: "x",
    });
    expect(res.status).toBe("completed");
    expect(res.output_text).toBe("Hi");
    expect(res.output[1]).toMatchObject({
      type: "function_call",
      call_id: "toolu_1",
      arguments: '{"city":"Rome"}',
    });
  });
});
