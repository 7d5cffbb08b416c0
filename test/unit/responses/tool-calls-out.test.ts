import { describe, expect, it } from "vitest";
import { anthropicSseToResponsesSse } from "../../../src/formats/responses/anthropic-stream";
import { freeformInput } from "../../../src/formats/responses/calls";
import { responseEcho, translateResponsesRequest } from "../../../src/formats/responses/request";
import { chatCompletionToResponse, messageToResponse } from "../../../src/formats/responses/response";
import { chatSseToResponsesSse } from "../../../src/formats/responses/chat-stream";
import type { ToolNames } from "../../../src/formats/responses/tool-names";
import { anthropicSse, openAiSse, translate } from "../translate/helpers";
import { checkResponsesStream } from "./helpers";

/**
 * Upstream tool calls → the items Codex dispatches on: a namespaced member comes back with its own name and
 * its `namespace`; a freeform tool's call comes back as a `custom_tool_call` with the raw input.
 */

function namesFor(tools: unknown[]): ToolNames {
  const out = translateResponsesRequest({ model: "m", input: "x", tools });
  if (!out.ok) throw new Error(out.message);
  return out.value.names;
}

const names = namesFor([
  { type: "function", name: "exec_command", parameters: { type: "object" } },
  {
    type: "namespace",
    name: "multi_agent_v1",
    tools: [{ type: "function", name: "spawn_agent", parameters: { type: "object" } }],
  },
  {
    type: "custom",
    name: "apply_patch",
    format: { type: "grammar", syntax: "lark", definition: "start: x" },
  },
]);
const opts = { model: "m", echo: responseEcho({}), names, responseId: "resp_t", createdAt: 1 };

const chunk = (delta: object, finish: string | null = null) => ({
  id: "c1",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const toolDelta = (index: number, fn: { name?: string; arguments: string }, id?: string) =>
  chunk({ tool_calls: [{ index, ...(id ? { id, type: "function" } : {}), function: fn }] });

describe("chat stream → Responses tool items", () => {
  it("a namespaced call streams as function_call with name and namespace; a freeform call as custom_tool_call", async () => {
    const patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n";
    const args = JSON.stringify({ input: patch });
    const sse = openAiSse([
      chunk({ role: "assistant", content: null }),
      toolDelta(0, { name: "multi_agent_v1__spawn_agent", arguments: "" }, "call_a"),
      toolDelta(1, { name: "apply_patch", arguments: "" }, "call_b"),
      toolDelta(0, { arguments: '{"message":' }),
      toolDelta(1, { arguments: args.slice(0, 10) }),
      toolDelta(0, { arguments: '"go"}' }),
      toolDelta(1, { arguments: args.slice(10) }),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    const s = checkResponsesStream(await translate(sse, chatSseToResponsesSse(opts)));
    expect(s.violations).toEqual([]);
    expect(s.items).toEqual([
      {
        id: "fc_t_1",
        type: "function_call",
        status: "completed",
        call_id: "call_a",
        name: "spawn_agent",
        namespace: "multi_agent_v1",
        arguments: '{"message":"go"}',
      },
      {
        id: "fc_t_2",
        type: "custom_tool_call",
        status: "completed",
        call_id: "call_b",
        name: "apply_patch",
        input: patch,
      },
    ]);
    // The freeform input is sent whole once the call ends: its JSON fragments are no use to the client.
    const custom = s.events.filter((e) => String(e.type).startsWith("response.custom_tool_call_input"));
    expect(custom).toEqual([
      expect.objectContaining({
        type: "response.custom_tool_call_input.delta",
        output_index: 1,
        delta: patch,
      }),
      expect.objectContaining({
        type: "response.custom_tool_call_input.done",
        output_index: 1,
        input: patch,
      }),
    ]);
    expect(s.events.filter((e) => e.type === "response.function_call_arguments.delta")).toHaveLength(2);
    const added = s.events.filter((e) => e.type === "response.output_item.added").map((e) => e.item);
    expect(added).toEqual([
      expect.objectContaining({ type: "function_call", name: "spawn_agent", namespace: "multi_agent_v1" }),
      expect.objectContaining({ type: "custom_tool_call", name: "apply_patch", input: "" }),
    ]);
  });

  it("a plain tool and a name the gateway never gave out come back as plain function calls", async () => {
    const sse = openAiSse([
      toolDelta(0, { name: "exec_command", arguments: "{}" }, "c0"),
      toolDelta(1, { name: "invented_tool", arguments: "{}" }, "c1"),
      chunk({}, "tool_calls"),
      "[DONE]",
    ]);
    const s = checkResponsesStream(await translate(sse, chatSseToResponsesSse(opts)));
    expect(s.violations).toEqual([]);
    expect(s.items.map((i) => [i.type, i.name, "namespace" in i])).toEqual([
      ["function_call", "exec_command", false],
      ["function_call", "invented_tool", false],
    ]);
  });
});

describe("Anthropic stream → Responses tool items", () => {
  it("tool_use blocks named by the gateway come back as the client's tools", async () => {
    const sse = anthropicSse([
      { type: "message_start", message: { id: "m", usage: { input_tokens: 3, output_tokens: 1 } } },
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: "toolu_1", name: "multi_agent_v1__spawn_agent", input: {} },
      },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"a":1}' } },
      { type: "content_block_stop", index: 0 },
      {
        type: "content_block_start",
        index: 1,
        content_block: { type: "tool_use", id: "toolu_2", name: "apply_patch", input: {} },
      },
      {
        type: "content_block_delta",
        index: 1,
        delta: { type: "input_json_delta", partial_json: '{"input":' },
      },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '"x"}' } },
      { type: "content_block_stop", index: 1 },
      { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } },
      { type: "message_stop" },
    ] as { type: string }[]);
    const s = checkResponsesStream(await translate(sse, anthropicSseToResponsesSse(opts)));
    expect(s.violations).toEqual([]);
    expect(s.items).toEqual([
      expect.objectContaining({ type: "function_call", name: "spawn_agent", namespace: "multi_agent_v1" }),
      expect.objectContaining({
        type: "custom_tool_call",
        name: "apply_patch",
        input: "x",
        call_id: "toolu_2",
      }),
    ]);
  });
});

describe("non-streamed answers", () => {
  it("chat completion and Anthropic message map calls back the same way", () => {
    const cc = chatCompletionToResponse(
      {
        id: "c",
        choices: [
          {
            index: 0,
            finish_reason: "tool_calls",
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                {
                  id: "c1",
                  type: "function",
                  function: { name: "multi_agent_v1__spawn_agent", arguments: "{}" },
                },
                { id: "c2", type: "function", function: { name: "apply_patch", arguments: '{"input":"p"}' } },
              ],
            },
          },
        ],
      },
      opts,
    );
    if (!cc.ok) throw new Error(cc.message);
    expect(cc.value.output).toEqual([
      expect.objectContaining({ type: "function_call", name: "spawn_agent", namespace: "multi_agent_v1" }),
      expect.objectContaining({ type: "custom_tool_call", name: "apply_patch", input: "p" }),
    ]);
    const msg = messageToResponse(
      {
        id: "m",
        type: "message",
        role: "assistant",
        model: "x",
        stop_reason: "tool_use",
        content: [{ type: "tool_use", id: "toolu_1", name: "apply_patch", input: { input: "q" } }],
        usage: { input_tokens: 1, output_tokens: 1 },
      },
      opts,
    );
    if (!msg.ok) throw new Error(msg.message);
    expect(msg.value.output).toEqual([expect.objectContaining({ type: "custom_tool_call", input: "q" })]);
  });
});

describe("freeformInput", () => {
  it.each([
    ['{"input":"raw text"}', "raw text"],
    ['"a JSON string"', "a JSON string"],
    ["not json at all", "not json at all"],
    ['{"other":1}', '{"other":1}'],
    ['{"input":42}', '{"input":42}'],
  ])("%s → %s", (args, input) => {
    expect(freeformInput(args)).toBe(input);
  });
});
