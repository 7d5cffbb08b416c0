import { describe, expect, it } from "vitest";
import {
  responseEcho,
  responsesPromptChars,
  responsesRequestToChat,
  statefulField,
} from "../../../src/formats/responses/request";
import { chatRequestToMessages } from "../../../src/formats/translate";

/** A Codex CLI turn after one tool call, in the shape Codex sends it (store: false, full history). */
const codexTurn = {
  model: "dbx/databricks-claude-sonnet-4",
  instructions: "You are Codex.",
  input: [
    { type: "message", role: "developer", content: [{ type: "input_text", text: "sandbox: read-only" }] },
    { type: "message", role: "user", content: [{ type: "input_text", text: "list files" }] },
    { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "opaque" },
    { type: "message", role: "assistant", content: [{ type: "output_text", text: "Running ls." }] },
    { type: "function_call", id: "fc_1", call_id: "call_1", name: "shell", arguments: '{"command":["ls"]}' },
    { type: "function_call", call_id: "call_2", name: "shell", arguments: '{"command":["pwd"]}' },
    { type: "function_call_output", call_id: "call_1", output: "a.txt\nb.txt" },
    { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "/work" }] },
  ],
  tools: [
    {
      type: "function",
      name: "shell",
      description: "Runs a command",
      strict: false,
      parameters: { type: "object", properties: { command: { type: "array", items: { type: "string" } } } },
    },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { effort: "medium", summary: "auto" },
  store: false,
  stream: true,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "abc",
};

describe("responsesRequestToChat", () => {
  it("turns a Codex turn into chat messages: instructions first, calls on the assistant turn, outputs as tool messages", () => {
    const out = responsesRequestToChat(codexTurn, { model: "databricks-claude-sonnet-4" });
    expect(out).toEqual({
      ok: true,
      value: {
        model: "databricks-claude-sonnet-4",
        messages: [
          { role: "system", content: "You are Codex." },
          { role: "system", content: "sandbox: read-only" },
          { role: "user", content: [{ type: "text", text: "list files" }] },
          {
            role: "assistant",
            content: "Running ls.",
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "shell", arguments: '{"command":["ls"]}' },
              },
              {
                id: "call_2",
                type: "function",
                function: { name: "shell", arguments: '{"command":["pwd"]}' },
              },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "a.txt\nb.txt" },
          { role: "tool", tool_call_id: "call_2", content: "/work" },
        ],
        stream: true,
        parallel_tool_calls: true,
        tools: [
          {
            type: "function",
            function: {
              name: "shell",
              description: "Runs a command",
              strict: false,
              parameters: {
                type: "object",
                properties: { command: { type: "array", items: { type: "string" } } },
              },
            },
          },
        ],
        tool_choice: "auto",
        reasoning_effort: "medium",
      },
    });
  });

  it("goes on to a valid Anthropic request (tool results in one user turn)", () => {
    const chat = responsesRequestToChat(codexTurn, { model: "claude" });
    if (!chat.ok) throw new Error(chat.message);
    const messages = chatRequestToMessages(chat.value, { defaultMaxTokens: 1000, model: "claude" });
    if (!messages.ok) throw new Error(messages.message);
    expect(messages.value.system).toEqual([
      { type: "text", text: "You are Codex." },
      { type: "text", text: "sandbox: read-only" },
    ]);
    expect(messages.value.messages.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
      ["user", ["text"]],
      ["assistant", ["text", "tool_use", "tool_use"]],
      ["user", ["tool_result", "tool_result"]],
    ]);
    expect(messages.value.tools?.[0]?.name).toBe("shell");
  });

  it("a string input is one user message; sampling fields map; text.format json_schema → response_format", () => {
    const out = responsesRequestToChat({
      model: "p/m",
      input: "hi",
      max_output_tokens: 100,
      temperature: 0.3,
      top_p: 0.8,
      user: "u1",
      tools: [{ type: "function", name: "f" }],
      tool_choice: { type: "function", name: "f" },
      text: { format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true } },
    });
    expect(out).toEqual({
      ok: true,
      value: {
        model: "p/m",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 100,
        temperature: 0.3,
        top_p: 0.8,
        user: "u1",
        tools: [
          { type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } },
        ],
        tool_choice: { type: "function", function: { name: "f" } },
        response_format: {
          type: "json_schema",
          json_schema: { name: "out", schema: { type: "object" }, strict: true },
        },
      },
    });
  });

  it("maps images and files in user content; easy messages without `type` work", () => {
    const out = responsesRequestToChat({
      model: "m",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "look" },
            { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" },
            { type: "input_file", file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" },
          ],
        },
      ],
    });
    expect(out.ok && out.value.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          { type: "file", file: { file_data: "data:application/pdf;base64,BBBB", filename: "a.pdf" } },
        ],
      },
    ]);
  });

  it.each([
    [{ previous_response_id: "resp_1" }, "previous_response_id", /stores no responses/],
    [{ conversation: "conv_1" }, "conversation", /no state/],
    [{ background: true }, "background", /no state/],
    [{ input: [{ type: "item_reference", id: "msg_1" }] }, "input[0].type", /stored responses/],
    [{ tools: [{ type: "function" }] }, "tools[0].name", /name/],
    [{ tools: [{ type: "web_search" }], tool_choice: { type: "web_search" } }, "tool_choice", /only/],
    [{ tool_choice: { type: "function", name: "undeclared" } }, "tool_choice", /declared/],
    [{ text: { format: { type: "xml" } } }, "text.format", /json_schema/],
    [
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] },
      "input[0].content[0]",
      /file_id/,
    ],
    [
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }] },
      "input[0].content[0]",
      /file_data/,
    ],
    [
      { input: [{ role: "system", content: [{ type: "input_image", image_url: "x" }] }] },
      "input[0].content[0]",
      /only hold text/,
    ],
    [{ input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input[0].call_id", /call_id/],
    [{ input: [{ role: "robot", content: "x" }] }, "input[0].role", /role/],
    [{ input: [] }, "input", /at least one/],
    [{ input: [{ type: "reasoning", summary: [] }] }, "input", /at least one/],
    [{ input: 42 }, "input", /input/],
  ])("refuses %o naming %s", (extra, param, message) => {
    const out = responsesRequestToChat({ model: "m", input: "x", ...extra });
    expect(out).toMatchObject({ ok: false, param });
    if (!out.ok) expect(out.message).toMatch(message);
  });
});

describe("statefulField, responseEcho, responsesPromptChars", () => {
  it("statefulField is null for a stateless request", () => {
    expect(statefulField({ model: "m", input: "x", store: false, previous_response_id: null })).toBeNull();
    expect(statefulField({ previous_response_id: "r" })?.param).toBe("previous_response_id");
  });

  it("echoes request settings with OpenAI's defaults", () => {
    expect(responseEcho({})).toEqual({
      instructions: null,
      max_output_tokens: null,
      parallel_tool_calls: true,
      temperature: null,
      top_p: null,
      tool_choice: "auto",
      tools: [],
      text: { format: { type: "text" } },
      reasoning: null,
      metadata: {},
    });
    expect(responseEcho({ instructions: "i", user: "u", metadata: { a: "b" } })).toMatchObject({
      instructions: "i",
      user: "u",
      metadata: { a: "b" },
    });
  });

  it("counts prompt characters of instructions, text, arguments and outputs", () => {
    expect(responsesPromptChars({ instructions: "abc", input: "de" })).toBe(5);
    expect(responsesPromptChars(codexTurn)).toBe(
      "You are Codex.".length +
        "sandbox: read-only".length +
        "list files".length +
        "Running ls.".length +
        '{"command":["ls"]}'.length +
        '{"command":["pwd"]}'.length +
        "a.txt\nb.txt".length +
        "/work".length,
    );
  });
});
