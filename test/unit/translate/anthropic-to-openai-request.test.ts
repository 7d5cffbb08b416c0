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

  it("drops server tools, MCP servers and a container, naming each; a choice of a dropped tool goes too", () => {
    const result = messagesRequestToChat({
      max_tokens: 1,
      messages: [{ role: "user", content: "x" }],
      tools: [
        { name: "f", input_schema: {} },
        { type: "web_search_20250305", name: "web_search", max_uses: 3 },
        { type: "code_execution_20250825", name: "code_execution" },
        { type: "mcp_toolset", mcp_server_name: "docs" },
        { type: "computer_20250124", name: "computer", display_width_px: 800, display_height_px: 600 },
      ],
      tool_choice: { type: "tool", name: "web_search" },
      mcp_servers: [{ type: "url", url: "https://mcp.example.com", name: "docs" }],
      container: "container_1",
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.tools?.map((t) => t.function.name)).toEqual(["f"]);
    expect(result.value.tool_choice).toBeUndefined();
    expect([...(result.dropped ?? [])].sort()).toEqual(
      [
        "web_search_20250305",
        "code_execution_20250825",
        "mcp_toolset",
        "computer_20250124",
        "mcp_servers",
        "container",
      ].sort(),
    );
  });

  it("sends no tools at all when every tool was a server tool", () => {
    const result = messagesRequestToChat({
      max_tokens: 1,
      messages: [{ role: "user", content: "x" }],
      tools: [{ type: "web_fetch_20250910", name: "web_fetch" }],
      tool_choice: { type: "any" },
    });
    expect(result).toMatchObject({ ok: true, dropped: ["web_fetch_20250910"] });
    if (!result.ok) return;
    expect(result.value.tools).toBeUndefined();
    expect(result.value.tool_choice).toBeUndefined();
  });

  it("maps the bash and text editor tools to function tools with their built-in schema", () => {
    const result = messagesRequestToChat({
      max_tokens: 1,
      messages: [{ role: "user", content: "x" }],
      tools: [
        { type: "bash_20250124", name: "bash" },
        { type: "text_editor_20250728", name: "str_replace_based_edit_tool", max_characters: 1000 },
        { type: "text_editor_20250124", name: "str_replace_editor" },
      ],
      tool_choice: { type: "tool", name: "bash" },
    });
    expect(result.ok && result.dropped).toBeUndefined();
    const out = ok(result);
    const [bash, editor, oldEditor] = out.tools ?? [];
    expect(bash?.function.name).toBe("bash");
    expect(bash?.function.parameters).toMatchObject({ properties: { command: { type: "string" } } });
    expect(editor?.function.name).toBe("str_replace_based_edit_tool");
    expect(editor?.function.parameters).toMatchObject({
      properties: { command: { enum: ["view", "create", "str_replace", "insert"] } },
      required: ["command", "path"],
    });
    expect(oldEditor?.function.parameters).toMatchObject({
      properties: { command: { enum: ["view", "create", "str_replace", "insert", "undo_edit"] } },
    });
    expect(out.tool_choice).toEqual({ type: "function", function: { name: "bash" } });
  });

  it("rejects a custom tool without a name", () => {
    expect(
      messagesRequestToChat({
        max_tokens: 1,
        messages: [{ role: "user", content: "x" }],
        tools: [{ input_schema: {} }],
      }),
    ).toMatchObject({ ok: false, param: "tools[0].name" });
  });

  it("puts a system message from inside the conversation in place, as text", () => {
    const out = translate({
      system: "top",
      messages: [
        { role: "user", content: [{ type: "text", text: "run", cache_control: { type: "ephemeral" } }] },
        { role: "system", content: "Agent types: ..." },
        { role: "assistant", content: "ok" },
        {
          role: "system",
          content: [
            { type: "text", text: "a", cache_control: { type: "ephemeral", scope: "global" } },
            { type: "text", text: "b" },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      { role: "system", content: "top" },
      { role: "user", content: "run" },
      { role: "system", content: "Agent types: ..." },
      { role: "assistant", content: "ok" },
      {
        role: "system",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
    ]);
  });

  it.each([
    [{ type: "adaptive" }, { effort: "high" }, "high"],
    [{ type: "adaptive" }, { effort: "xhigh" }, "high"],
    [{ type: "adaptive" }, { effort: "max" }, "high"],
    [{ type: "adaptive" }, { effort: "medium" }, "medium"],
    [undefined, { effort: "low" }, "low"],
    [{ type: "disabled" }, { effort: "low" }, "low"],
    [{ type: "enabled", budget_tokens: 1024 }, undefined, "low"],
    [{ type: "enabled", budget_tokens: 4096 }, undefined, "medium"],
    [{ type: "enabled", budget_tokens: 31999 }, undefined, "high"],
    [{ type: "enabled", budget_tokens: 31999 }, { effort: "low" }, "low"],
    [{ type: "adaptive" }, undefined, undefined],
    [{ type: "disabled" }, undefined, undefined],
    [{ type: "adaptive", display: "omitted" }, { effort: "someday-level" }, undefined],
  ])("thinking %j with output_config %j → reasoning_effort %s", (thinking, outputConfig, effort) => {
    const out = translate({ thinking, output_config: outputConfig });
    expect(out.reasoning_effort).toBe(effort);
    expect(out).not.toHaveProperty("thinking");
    expect(out).not.toHaveProperty("output_config");
  });

  it("maps a JSON schema output format to response_format; other formats are dropped and named", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    expect(translate({ output_config: { format: { type: "json_schema", schema } } }).response_format).toEqual(
      {
        type: "json_schema",
        json_schema: { name: "output", schema },
      },
    );
    expect(translate({ output_format: { type: "json_schema", schema } }).response_format).toMatchObject({
      type: "json_schema",
    });
    expect(
      messagesRequestToChat({
        max_tokens: 1,
        messages: [{ role: "user", content: "x" }],
        output_config: { format: { type: "grammar", grammar: "x" } },
      }),
    ).toMatchObject({ ok: true, dropped: ["output_config.format"] });
  });

  it("drops what only tunes the call without naming it", () => {
    const result = messagesRequestToChat({
      max_tokens: 10,
      messages: [
        {
          role: "user",
          content: [
            {
              type: "text",
              text: "hi",
              cache_control: { type: "ephemeral", scope: "global" },
              citations: [],
            },
          ],
        },
      ],
      system: [{ type: "text", text: "s", cache_control: { type: "ephemeral", ttl: "1h" } }],
      tools: [{ name: "f", input_schema: {}, cache_control: { type: "ephemeral" }, defer_loading: true }],
      context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
      metadata: { user_id: "u", other: 1 },
      top_k: 5,
      service_tier: "auto",
      cache_control: { type: "ephemeral" },
      some_future_field: { x: 1 },
    });
    expect(result.ok && result.dropped).toBeUndefined();
    const text = JSON.stringify(ok(result));
    for (const gone of [
      "cache_control",
      "context_management",
      "top_k",
      "service_tier",
      "defer_loading",
      "some_future_field",
      "citations",
      "other",
    ]) {
      expect(text).not.toContain(gone);
    }
    expect(ok(result).user).toBe("u");
  });

  it("drops block types it does not know, wherever they are, naming them", () => {
    const result = messagesRequestToChat({
      max_tokens: 1,
      system: [{ type: "text", text: "s" }, { type: "future_system_block" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "q" },
            { type: "search_result", source: "s", content: [] },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "q" } },
            { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
            { type: "text", text: "found" },
            { type: "tool_use", id: "t1", name: "ToolSearch", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "t1",
              content: [{ type: "tool_reference", tool_name: "Read" }],
            },
          ],
        },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([...(result.dropped ?? [])].sort()).toEqual(
      [
        "future_system_block",
        "search_result",
        "server_tool_use",
        "web_search_tool_result",
        "tool_reference",
      ].sort(),
    );
    expect(result.value.messages).toEqual([
      { role: "system", content: "s" },
      { role: "user", content: "q" },
      {
        role: "assistant",
        content: "found",
        tool_calls: [{ id: "t1", type: "function", function: { name: "ToolSearch", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "t1", content: "" },
    ]);
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
  });

  it.each([
    [undefined, null],
    [[], null],
    [{ messages: [{ role: "tool", content: "x" }] }, "messages[0].role"],
    [{ messages: [{ role: "user", content: [{ text: "no type" }] }] }, "messages[0].content[0].type"],
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
