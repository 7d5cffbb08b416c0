import { describe, expect, it } from "vitest";
import { messagesRequestToChat } from "../../../src/formats/translate/anthropic-to-openai-request";
import type { OaiChatRequestOut, Result } from "../../../src/formats/translate/types";

function ok(result: Result<OaiChatRequestOut>): OaiChatRequestOut {
  if (!result.ok) throw new Error(`expected ok, got: ${result.message}`);
  return result.value;
}

const translate = (req: Record<string, unknown>) =>
  ok(
    messagesRequestToChat({
      model: "gpt",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
      ...req,
    }),
  );

describe("messagesRequestToChat", () => {
  it("translates a minimal request", () => {
    expect(translate({})).toEqual({
      model: "gpt",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
  });

  it("puts the system prompt first, as a string or as parts when it has several blocks", () => {
    expect(translate({ system: "be brief" }).messages[0]).toEqual({ role: "system", content: "be brief" });
    expect(
      translate({
        system: [
          { type: "text", text: "one", cache_control: { type: "ephemeral" } },
          { type: "text", text: "" },
          { type: "text", text: "two" },
        ],
      }).messages[0],
    ).toEqual({
      role: "system",
      content: [
        { type: "text", text: "one" },
        { type: "text", text: "two" },
      ],
    });
    expect(translate({ system: "" }).messages[0]?.role).toBe("user");
  });

  it("turns tool_use into tool_calls and tool_result into tool messages right after the call", () => {
    const out = translate({
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "weather", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [{ type: "text", text: "24C" }],
              is_error: true,
            },
            { type: "text", text: "and tomorrow?" },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "toolu_2", type: "function", function: { name: "weather", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "18C" },
      { role: "tool", tool_call_id: "toolu_2", content: "24C" },
      { role: "user", content: "and tomorrow?" },
    ]);
  });

  it("gives a tool message empty content when the result has none, and null assistant content with only calls", () => {
    const out = translate({
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: { a: 1 } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t" }] },
      ],
    });
    expect(out.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
      },
      { role: "tool", tool_call_id: "t", content: "" },
    ]);
  });

  it("moves images out of tool results into the user message that follows", () => {
    const out = translate({
      messages: [
        { role: "user", content: "screenshot" },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "shot", input: {} }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "t",
              content: [
                { type: "text", text: "here" },
                { type: "image", source: { type: "base64", media_type: "image/png", data: "AAA=" } },
              ],
            },
          ],
        },
      ],
    });
    expect(out.messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "t", content: "here" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAA=" } }] },
    ]);
  });

  it("maps base64 and url images, and documents", () => {
    const out = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
            {
              type: "document",
              source: { type: "base64", media_type: "application/pdf", data: "JVBE" },
              title: "a.pdf",
            },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "plain doc" } },
          ],
        },
      ],
    });
    expect(out.messages[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/" } },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        { type: "file", file: { file_data: "data:application/pdf;base64,JVBE", filename: "a.pdf" } },
        { type: "text", text: "plain doc" },
      ],
    });
  });

  it("keeps several text blocks of one turn as separate parts", () => {
    const out = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "" },
            { type: "text", text: "b" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "c" },
            { type: "text", text: "d" },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "c" },
          { type: "text", text: "d" },
        ],
      },
    ]);
  });

  it("drops thinking-only assistant turns and empty turns", () => {
    const out = translate({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: [{ type: "redacted_thinking", data: "abc" }] },
        { role: "user", content: [] },
        { role: "user", content: "y" },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: "x" },
      { role: "user", content: "y" },
    ]);
  });

  it("maps sampling fields, stop_sequences, metadata.user_id, and drops top_k and thinking", () => {
    const out = translate({
      temperature: 0.5,
      top_p: 0.8,
      top_k: 3,
      stop_sequences: ["END", ""],
      metadata: { user_id: "u-1" },
      thinking: { type: "enabled", budget_tokens: 2048 },
    });
    expect(out).toMatchObject({ temperature: 0.5, top_p: 0.8, stop: ["END"], user: "u-1" });
    expect(out).not.toHaveProperty("top_k");
    expect(out).not.toHaveProperty("thinking");
  });

  it("asks an OpenAI upstream for usage when streaming", () => {
    expect(translate({ stream: true })).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(translate({ stream: false })).toMatchObject({ stream: false });
    expect(translate({ stream: false })).not.toHaveProperty("stream_options");
  });

  it("maps tools, defaulting a missing input_schema", () => {
    const out = translate({
      tools: [
        {
          name: "f",
          description: "d",
          input_schema: { type: "object", properties: { a: { type: "string" } } },
        },
        { type: "custom", name: "g", cache_control: { type: "ephemeral" } },
      ],
    });
    expect(out.tools).toEqual([
      {
        type: "function",
        function: {
          name: "f",
          description: "d",
          parameters: { type: "object", properties: { a: { type: "string" } } },
        },
      },
      { type: "function", function: { name: "g", parameters: { type: "object", properties: {} } } },
    ]);
  });

  it("rejects server tools, naming the tool", () => {
    const result = messagesRequestToChat({
      max_tokens: 1,
      messages: [{ role: "user", content: "x" }],
      tools: [
        { name: "f", input_schema: {} },
        { type: "web_search_20250305", name: "web_search" },
      ],
    });
    expect(result).toMatchObject({ ok: false, param: "tools[1].type" });
  });

  it.each([
    [{ type: "auto" }, "auto", undefined],
    [{ type: "any" }, "required", undefined],
    [{ type: "none" }, "none", undefined],
    [{ type: "tool", name: "f" }, { type: "function", function: { name: "f" } }, undefined],
    [{ type: "auto", disable_parallel_tool_use: true }, "auto", false],
    [
      { type: "tool", name: "f", disable_parallel_tool_use: true },
      { type: "function", function: { name: "f" } },
      false,
    ],
  ])("tool_choice %j → %j, parallel_tool_calls %s", (choice, expected, parallel) => {
    const out = translate({ tools: [{ name: "f", input_schema: {} }], tool_choice: choice });
    expect(out.tool_choice).toEqual(expected);
    expect(out.parallel_tool_calls).toBe(parallel);
  });

  it("rejects blocks that cannot be expressed", () => {
    expect(
      messagesRequestToChat({
        max_tokens: 1,
        messages: [
          { role: "user", content: [{ type: "document", source: { type: "url", url: "https://x/a.pdf" } }] },
        ],
      }),
    ).toMatchObject({ ok: false, param: "messages[0].content[0].source" });
    expect(
      messagesRequestToChat({
        max_tokens: 1,
        messages: [{ role: "user", content: [{ type: "tool_use", id: "a", name: "b", input: {} }] }],
      }),
    ).toMatchObject({ ok: false, param: "messages[0].content[0].type" });
    expect(
      messagesRequestToChat({
        max_tokens: 1,
        messages: [{ role: "user", content: [{ type: "server_tool_use", id: "a" }] }],
      }),
    ).toMatchObject({ ok: false, param: "messages[0].content[0].type" });
  });

  it.each([
    [undefined, null],
    [[], null],
    [{ messages: [{ role: "system", content: "x" }] }, "messages[0].role"],
    [
      { messages: [{ role: "user", content: [{ type: "image", source: { type: "base64" } }] }] },
      "messages[0].content[0].source.media_type",
    ],
    [
      {
        messages: [{ role: "assistant", content: [{ type: "tool_use", id: "a", name: "b", input: "str" }] }],
      },
      "messages[0].content[0].input",
    ],
    [{ messages: [], tool_choice: { type: "whatever" } }, "tool_choice.type"],
  ])("never throws on bad input: %j → param %s", (input, param) => {
    const result = messagesRequestToChat(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.param).toBe(param);
  });
});
