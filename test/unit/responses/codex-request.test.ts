import { describe, expect, it } from "vitest";
import { translateResponsesRequest } from "../../../src/formats/responses/request";
import { chatRequestToMessages } from "../../../src/formats/translate";
import turn1 from "../../fixtures/clients/codex-0.171.0-turn1-stock.json";
import turn2 from "../../fixtures/clients/codex-0.171.0-turn2-tool-output.json";

/** What Codex CLI sends beyond plain function tools and messages, and the rule each field follows. */

type Json = Record<string, unknown>;

function translate(body: Json) {
  const out = translateResponsesRequest({ model: "m", input: "hi", ...body }, { model: "up" });
  if (!out.ok) throw new Error(`${out.param}: ${out.message}`);
  return out;
}

const fn = (name: string, description = `${name} tool`) => ({
  type: "function",
  name,
  description,
  strict: false,
  parameters: { type: "object", properties: { target: { type: "string" } } },
});

const toAnthropic = (chat: unknown) => {
  const out = chatRequestToMessages(chat, { defaultMaxTokens: 1000, model: "claude" });
  if (!out.ok) throw new Error(out.message);
  return out.value;
};

describe("namespace tools", () => {
  const agents = {
    type: "namespace",
    name: "multi_agent_v1",
    description: "Tools for spawning and managing sub-agents.",
    tools: [fn("spawn_agent"), fn("close_agent")],
  };

  it("are flattened into functions named namespace__member, the namespace's description first", () => {
    const out = translate({ tools: [fn("exec_command"), agents] });
    expect(out.value.chat.tools?.map((t) => t.function.name)).toEqual([
      "exec_command",
      "multi_agent_v1__spawn_agent",
      "multi_agent_v1__close_agent",
    ]);
    expect(out.value.chat.tools?.[1]?.function).toEqual({
      name: "multi_agent_v1__spawn_agent",
      description: "Tools for spawning and managing sub-agents.\n\nspawn_agent tool",
      strict: false,
      parameters: { type: "object", properties: { target: { type: "string" } } },
    });
    expect(out.dropped).toBeUndefined();
    expect(out.value.names.clientTool("multi_agent_v1__close_agent")).toEqual({
      name: "close_agent",
      namespace: "multi_agent_v1",
      kind: "function",
    });
  });

  it("a call in the history carries its namespace: it goes upstream under the same flat name", () => {
    const out = translate({
      tools: [agents],
      input: [
        { role: "user", content: "spawn" },
        {
          type: "function_call",
          call_id: "c1",
          name: "spawn_agent",
          namespace: "multi_agent_v1",
          arguments: "{}",
        },
        { type: "function_call_output", call_id: "c1", output: "agent-1" },
      ],
    });
    expect(out.value.chat.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "c1", type: "function", function: { name: "multi_agent_v1__spawn_agent", arguments: "{}" } },
      ],
    });
  });

  it("a call to a tool no longer offered still gets a stable name", () => {
    const out = translate({
      tools: [fn("exec_command")],
      input: [{ type: "function_call", call_id: "c1", name: "gone", namespace: "old_ns", arguments: "{}" }],
    });
    const call = out.value.chat.messages[0];
    expect(call?.role === "assistant" && call.tool_calls?.[0]?.function.name).toBe("old_ns__gone");
  });

  it("tool_choice naming a member maps to its flat name; on Anthropic too", () => {
    const out = translate({
      tools: [agents],
      tool_choice: { type: "function", name: "close_agent", namespace: "multi_agent_v1" },
    });
    expect(out.value.chat.tool_choice).toEqual({
      type: "function",
      function: { name: "multi_agent_v1__close_agent" },
    });
    expect(toAnthropic(out.value.chat).tool_choice).toEqual({
      type: "tool",
      name: "multi_agent_v1__close_agent",
    });
  });

  it("tools declared in additional_tools input items are offered like the request's own", () => {
    const out = translate({
      input: [
        { type: "additional_tools", role: "developer", tools: [agents, { type: "web_search" }] },
        { role: "user", content: "go" },
      ],
    });
    expect(out.value.chat.tools?.map((t) => t.function.name)).toEqual([
      "multi_agent_v1__spawn_agent",
      "multi_agent_v1__close_agent",
    ]);
    expect(out.value.chat.messages).toEqual([{ role: "user", content: "go" }]);
    expect(out.dropped).toEqual(["web_search"]);
  });

  it("a malformed member is the client's error, named by its path", () => {
    const out = translateResponsesRequest({
      model: "m",
      input: "x",
      tools: [{ ...agents, tools: [{ type: "function" }] }],
    });
    expect(out).toMatchObject({ ok: false, param: "tools[0].tools[0].name" });
  });
});

describe("custom (freeform) tools", () => {
  const applyPatch = {
    type: "custom",
    name: "apply_patch",
    description: "Use the `apply_patch` tool to edit files.",
    format: { type: "grammar", syntax: "lark", definition: "start: begin_patch hunk+ end_patch" },
  };

  it("become a function with one string parameter, input, described with the grammar", () => {
    const tool = translate({ tools: [applyPatch] }).value.chat.tools?.[0];
    expect(tool?.function.name).toBe("apply_patch");
    expect(tool?.function.parameters).toMatchObject({
      type: "object",
      properties: { input: { type: "string" } },
      required: ["input"],
    });
    expect(tool?.function.description).toBe(
      "Use the `apply_patch` tool to edit files.\n\nThis tool takes freeform text: put all of it, as it is, in `input`.\n\nThe input must match this lark grammar:\nstart: begin_patch hunk+ end_patch",
    );
  });

  it("a custom_tool_call in the history is a call with {input}; its output a tool message", () => {
    const out = translate({
      tools: [applyPatch],
      tool_choice: { type: "custom", name: "apply_patch" },
      input: [
        { role: "user", content: "edit" },
        {
          type: "custom_tool_call",
          call_id: "c1",
          name: "apply_patch",
          input: "*** Begin Patch\n*** End Patch\n",
        },
        { type: "custom_tool_call_output", call_id: "c1", output: "Success." },
      ],
    });
    expect(out.value.chat.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch\\n*** End Patch\\n"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "Success." },
    ]);
    expect(out.value.chat.tool_choice).toEqual({ type: "function", function: { name: "apply_patch" } });
    expect(out.value.names.clientTool("apply_patch")).toEqual({ name: "apply_patch", kind: "custom" });
  });

  it("a function and a custom tool of the same name get different upstream names", () => {
    const out = translate({ tools: [fn("apply_patch"), applyPatch] });
    const [a, b] = out.value.chat.tools?.map((t) => t.function.name) ?? [];
    expect(a).toBe("apply_patch");
    expect(b).not.toBe("apply_patch");
    expect(out.value.names.clientTool(String(b)).kind).toBe("custom");
  });
});

describe("hosted tools: left out and named", () => {
  it.each([
    [{ type: "web_search", external_web_access: true }, "web_search"],
    [{ type: "web_search_preview" }, "web_search_preview"],
    [{ type: "image_generation" }, "image_generation"],
    [{ type: "tool_search", execution: "client", description: "d", parameters: {} }, "tool_search"],
    [{ type: "local_shell" }, "local_shell"],
    [{ type: "file_search", vector_store_ids: ["vs"] }, "file_search"],
    [{ type: "code_interpreter", container: { type: "auto" } }, "code_interpreter"],
    [{ type: "computer_use_preview" }, "computer_use_preview"],
    [{ type: "mcp", server_label: "s" }, "mcp"],
    [{ type: "a_tool_from_next_year" }, "a_tool_from_next_year"],
    [{ name: "no_type" }, "tool"],
  ])("%o → dropped: %s", (tool, name) => {
    const out = translate({ tools: [fn("exec_command"), tool] });
    expect(out.dropped).toEqual([name]);
    expect(out.value.chat.tools?.map((t) => t.function.name)).toEqual(["exec_command"]);
  });

  it("with only hosted tools, no tools (and no tool_choice) go upstream", () => {
    const out = translate({ tools: [{ type: "web_search" }], tool_choice: "auto" });
    expect(out.value.chat).not.toHaveProperty("tools");
    expect(out.value.chat).not.toHaveProperty("tool_choice");
  });

  it.each([
    { type: "web_search" },
    { type: "function", name: "undeclared" },
    { type: "allowed_tools", mode: "auto", tools: [{ type: "web_search" }] },
    { type: "mcp", server_label: "s" },
  ])("forcing a tool that is not there (%o) is refused", (choice) => {
    const out = translateResponsesRequest({
      model: "m",
      input: "x",
      tools: [fn("exec_command"), { type: "web_search" }],
      tool_choice: choice,
    });
    expect(out).toMatchObject({ ok: false, param: "tool_choice" });
  });

  it("'required' with every tool left out is refused; 'auto' is simply dropped", () => {
    const body = { model: "m", input: "x", tools: [{ type: "web_search" }] };
    expect(translateResponsesRequest({ ...body, tool_choice: "required" })).toMatchObject({
      ok: false,
      param: "tool_choice",
    });
    expect(translateResponsesRequest({ ...body, tool_choice: "auto" })).toMatchObject({ ok: true });
  });

  it("allowed_tools keeps only the tools it lists", () => {
    const out = translate({
      tools: [fn("a"), fn("b")],
      tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "b" }] },
    });
    expect(out.value.chat.tools?.map((t) => t.function.name)).toEqual(["b"]);
    expect(out.value.chat.tool_choice).toBe("required");
  });
});

describe("input items, roles and parts", () => {
  it("developer messages anywhere become system messages in place; Anthropic gathers them into system", () => {
    const out = translate({
      input: [
        { type: "message", role: "developer", content: [{ type: "input_text", text: "dev 1" }] },
        { role: "user", content: "q" },
        { role: "assistant", content: [{ type: "output_text", text: "a" }] },
        { type: "message", role: "developer", content: "dev 2" },
        { role: "user", content: "q2" },
      ],
    });
    expect(out.value.chat.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "system",
      "user",
    ]);
    expect(out.value.chat.messages[3]).toEqual({ role: "system", content: "dev 2" });
    expect(toAnthropic(out.value.chat).system).toEqual([
      { type: "text", text: "dev 1" },
      { type: "text", text: "dev 2" },
    ]);
  });

  it("reasoning items are dropped without a word; records of hosted calls and newer item types are named", () => {
    const out = translate({
      input: [
        { role: "user", content: "q" },
        { type: "reasoning", id: "rs", summary: [], encrypted_content: "opaque" },
        { type: "web_search_call", id: "ws", status: "completed", action: { type: "search", query: "x" } },
        {
          type: "local_shell_call",
          call_id: "ls",
          status: "completed",
          action: { type: "exec", command: ["ls"] },
        },
        { type: "compaction", encrypted_content: "opaque" },
        { type: "something_new", data: 1 },
        { role: "user", content: "q2" },
      ],
    });
    expect(out.value.chat.messages).toEqual([
      { role: "user", content: "q" },
      { role: "user", content: "q2" },
    ]);
    expect(out.dropped).toEqual([
      "input:web_search_call",
      "input:local_shell_call",
      "input:compaction",
      "input:something_new",
    ]);
  });

  it("content parts it cannot read are dropped and named; the rest of the message stays", () => {
    const out = translate({
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "a" },
            { type: "input_audio", input_audio: { data: "x", format: "wav" } },
            { type: "text", text: "b" },
          ],
        },
        { role: "developer", content: [{ type: "input_text", text: "d" }, { type: "mystery" }] },
      ],
    });
    expect(out.value.chat.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      { role: "system", content: "d" },
    ]);
    expect(out.dropped).toEqual(["content:input_audio", "content:mystery"]);
  });

  it("a role it cannot place is refused, naming it (the message cannot be dropped or reassigned)", () => {
    const out = translateResponsesRequest({ model: "m", input: [{ role: "critic", content: "x" }] });
    expect(out).toMatchObject({ ok: false, param: "input[0].role" });
  });

  it("images a tool returned (Codex's view_image) follow its tool messages as a user turn", () => {
    const image = { type: "input_image", image_url: "data:image/png;base64,AAAA" };
    const out = translate({
      input: [
        { role: "user", content: "look" },
        { type: "function_call", call_id: "c1", name: "view_image", arguments: '{"path":"a.png"}' },
        { type: "function_call", call_id: "c2", name: "exec_command", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: [image] },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "ok" }] },
        { role: "user", content: "and?" },
      ],
    });
    expect(out.value.chat.messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "c1", content: "[1 image in the next message]" },
      { role: "tool", tool_call_id: "c2", content: "ok" },
      {
        role: "user",
        content: [
          { type: "text", text: "Images returned by the tool calls above:" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
      { role: "user", content: "and?" },
    ]);
    // Anthropic: one user turn, the tool results first, then the image and the text.
    const turns = toAnthropic(out.value.chat).messages;
    expect(turns.at(-1)?.content.map((b) => b.type)).toEqual([
      "tool_result",
      "tool_result",
      "text",
      "image",
      "text",
    ]);
  });
});

describe("Codex's request fields", () => {
  it("only-tuning fields are accepted and left behind silently; effort and verbosity are mapped", () => {
    const out = translate({
      store: false,
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "key",
      client_metadata: { session_id: "s" },
      reasoning: { effort: "high", summary: "auto" },
      text: { verbosity: "low" },
      service_tier: "priority",
      generate: true,
      a_field_from_next_year: { x: 1 },
    });
    expect(out.dropped).toBeUndefined();
    expect(out.value.chat).toEqual({
      model: "up",
      messages: [{ role: "user", content: "hi" }],
      reasoning_effort: "high",
      verbosity: "low",
    });
  });

  it("the captured first turn: web_search dropped and named, everything else translated", () => {
    const out = translateResponsesRequest(turn1.body, { model: "up" });
    if (!out.ok) throw new Error(out.message);
    expect(out.dropped).toEqual(["web_search"]);
    expect(out.value.chat.tools).toHaveLength(12);
    expect(out.value.chat.messages.map((m) => m.role)).toEqual(["system", "system", "user", "user"]);
    // The developer message with two parts is one system message, its parts joined.
    expect(String(out.value.chat.messages[1]?.content)).toMatch(
      /^<skills_instructions>[\s\S]*<permissions instructions>/,
    );
    expect(toAnthropic(out.value.chat).tools).toHaveLength(12);
  });

  it("the captured second turn: the call and its output become an assistant call and a tool message", () => {
    const out = translateResponsesRequest(turn2.body, { model: "up" });
    if (!out.ok) throw new Error(out.message);
    expect(out.dropped).toBeUndefined();
    expect(out.value.chat.messages.map((m) => m.role)).toEqual([
      "system",
      "system",
      "user",
      "user",
      "assistant",
      "tool",
    ]);
  });

  it("a warm-up (generate: false) may hold only instructions", () => {
    const body = { model: "m", input: [{ role: "developer", content: "be brief" }], generate: false };
    expect(translateResponsesRequest(body)).toMatchObject({ ok: false, param: "input" });
    expect(translateResponsesRequest(body, { warmup: true })).toMatchObject({ ok: true });
  });
});
