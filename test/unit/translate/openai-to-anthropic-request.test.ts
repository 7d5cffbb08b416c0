import { describe, expect, it } from "vitest";
import { chatRequestToMessages } from "../../../src/formats/translate/openai-to-anthropic-request";
import type { AntMessagesRequestOut, Result } from "../../../src/formats/translate/types";

const opts = { defaultMaxTokens: 4096 };

function ok(result: Result<AntMessagesRequestOut>): AntMessagesRequestOut {
  if (!result.ok) throw new Error(`expected ok, got: ${result.message}`);
  return result.value;
}

const translate = (req: Record<string, unknown>) =>
  ok(chatRequestToMessages({ model: "claude", messages: [{ role: "user", content: "hi" }], ...req }, opts));

describe("chatRequestToMessages", () => {
  it("translates a minimal request, with the default max_tokens", () => {
    expect(translate({})).toEqual({
      model: "claude",
      max_tokens: 4096,
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    });
  });

  it("prefers max_completion_tokens over max_tokens, and the model option over the request's", () => {
    const out = ok(
      chatRequestToMessages(
        { model: "a", messages: [{ role: "user", content: "x" }], max_tokens: 10, max_completion_tokens: 20 },
        { defaultMaxTokens: 1, model: "b" },
      ),
    );
    expect(out.max_tokens).toBe(20);
    expect(out.model).toBe("b");
    expect(translate({ max_tokens: 10 }).max_tokens).toBe(10);
  });

  it("keeps every system and developer message, wherever it is, in order", () => {
    const out = translate({
      messages: [
        { role: "system", content: "one" },
        { role: "user", content: "hi" },
        {
          role: "developer",
          content: [
            { type: "text", text: "two" },
            { type: "text", text: "" },
          ],
        },
        { role: "assistant", content: "hello" },
        { role: "system", content: "three" },
        { role: "user", content: "again" },
      ],
    });
    expect(out.system).toEqual([
      { type: "text", text: "one" },
      { type: "text", text: "two" },
      { type: "text", text: "three" },
    ]);
    expect(out.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("merges consecutive turns of the same role", () => {
    const out = translate({
      messages: [
        { role: "user", content: "a" },
        { role: "user", content: [{ type: "text", text: "b" }] },
        { role: "assistant", content: "c" },
        { role: "assistant", content: "d" },
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

  it("turns tool_calls into tool_use and tool messages into tool_result blocks in one user turn", () => {
    const out = translate({
      messages: [
        { role: "user", content: "weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "18C" },
        { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "24C" }] },
        { role: "user", content: "thanks" },
      ],
    });
    expect(out.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_1", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_2", name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "18C" },
          { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "24C" }] },
          { type: "text", text: "thanks" },
        ],
      },
    ]);
  });

  it("puts tool_result blocks before text that came earlier in the same merged user turn", () => {
    const out = translate({
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", function: { name: "f", arguments: "{}" } }],
        },
        { role: "user", content: "by the way" },
        { role: "tool", tool_call_id: "c", content: "done" },
      ],
    });
    expect(out.messages[2]?.content.map((b) => b.type)).toEqual(["tool_result", "text"]);
  });

  it("omits empty tool result content instead of sending an empty string", () => {
    const out = translate({
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", function: { name: "f", arguments: "" } }],
        },
        { role: "tool", tool_call_id: "c", content: "" },
      ],
    });
    expect(out.messages[2]?.content).toEqual([{ type: "tool_result", tool_use_id: "c" }]);
  });

  it.each([
    ["", {}],
    ["   ", {}],
    ["not json", {}],
    ['{"a":', {}],
    ["[1,2]", {}],
    ['"text"', {}],
    ["null", {}],
    ['{"a":[1,{"b":null}]}', { a: [1, { b: null }] }],
  ])("tool-call arguments %j become input %j", (args, input) => {
    const out = translate({
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: args } }],
        },
      ],
    });
    expect(out.messages[1]?.content).toEqual([{ type: "tool_use", id: "c", name: "f", input }]);
  });

  it("rewrites tool ids Anthropic would reject, the same way in tool_use and tool_result", () => {
    const out = translate({
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          tool_calls: [{ id: "functions.f:0", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "functions.f:0", content: "ok" },
      ],
    });
    expect(out.messages[1]?.content[0]).toMatchObject({ type: "tool_use", id: "functions_f_0" });
    expect(out.messages[2]?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "functions_f_0" });
  });

  it("maps data-URL images to base64 sources and http(s) URLs to url sources", () => {
    const out = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
          ],
        },
      ],
    });
    expect(out.messages[0]?.content).toEqual([
      { type: "text", text: "what is this" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ]);
  });

  it("maps inline files to documents", () => {
    const out = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
          ],
        },
      ],
    });
    expect(out.messages[0]?.content).toEqual([
      {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
        title: "a.pdf",
      },
    ]);
  });

  it.each([
    [
      { type: "image_url", image_url: { url: "ftp://example.com/x.png" } },
      "messages[0].content[0].image_url.url",
    ],
    [
      { type: "image_url", image_url: { url: "data:image/png,notbase64" } },
      "messages[0].content[0].image_url.url",
    ],
    [{ type: "input_audio", input_audio: { data: "", format: "wav" } }, "messages[0].content[0]"],
    [{ type: "file", file: { file_id: "file-1" } }, "messages[0].content[0].file"],
  ])("rejects user part %j, naming %s", (part, param) => {
    const result = chatRequestToMessages({ messages: [{ role: "user", content: [part] }] }, opts);
    expect(result).toMatchObject({ ok: false, param });
  });

  it("drops part types it does not know, in user and assistant messages, naming them", () => {
    const result = chatRequestToMessages(
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "video", url: "x" },
              { type: "text", text: "what is in it" },
            ],
          },
          {
            role: "assistant",
            content: [
              { type: "audio_transcript", id: "a" },
              { type: "text", text: "a cat" },
            ],
          },
          { role: "user", content: "thanks" },
        ],
      },
      opts,
    );
    expect(result).toMatchObject({ ok: true, dropped: ["video", "audio_transcript"] });
    if (!result.ok) return;
    expect(result.value.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "what is in it" }] },
      { role: "assistant", content: [{ type: "text", text: "a cat" }] },
      { role: "user", content: [{ type: "text", text: "thanks" }] },
    ]);
  });

  it("drops tools that are not functions, naming their type; a choice of a dropped tool goes too", () => {
    const result = chatRequestToMessages(
      {
        messages: [{ role: "user", content: "x" }],
        tools: [
          { type: "function", function: { name: "f", parameters: { type: "object" } } },
          { type: "custom", custom: { name: "grammar_tool" } },
        ],
        tool_choice: { type: "function", function: { name: "f" } },
      },
      opts,
    );
    expect(result).toMatchObject({ ok: true, dropped: ["custom"] });
    if (!result.ok) return;
    expect(result.value.tools?.map((t) => t.name)).toEqual(["f"]);
    expect(result.value.tool_choice).toEqual({ type: "tool", name: "f" });

    const gone = chatRequestToMessages(
      {
        messages: [{ role: "user", content: "x" }],
        tools: [{ type: "custom", custom: { name: "g" } }],
        tool_choice: "required",
      },
      opts,
    );
    expect(gone.ok && gone.value.tools).toBeUndefined();
    expect(gone.ok && gone.value.tool_choice).toBeUndefined();
    expect(
      chatRequestToMessages(
        { messages: [{ role: "user", content: "x" }], tools: [{ type: "function" }] },
        opts,
      ),
    ).toMatchObject({ ok: false, param: "tools[0].function" });
  });

  it("names a JSON response_format, web search and audio output as dropped; a text format is silent", () => {
    const result = chatRequestToMessages(
      {
        messages: [{ role: "user", content: "x" }],
        response_format: { type: "json_schema", json_schema: { name: "x", schema: {} } },
        web_search_options: {},
        audio: { voice: "alloy", format: "wav" },
        reasoning_effort: "high",
        seed: 1,
        store: true,
        prompt_cache_key: "k",
      },
      opts,
    );
    expect(result).toMatchObject({ ok: true, dropped: ["response_format", "web_search_options", "audio"] });
    const text = JSON.stringify(result.ok && result.value);
    for (const gone of ["reasoning_effort", "seed", "store", "prompt_cache_key"])
      expect(text).not.toContain(gone);
    const plain = chatRequestToMessages(
      { messages: [{ role: "user", content: "x" }], response_format: { type: "text" } },
      opts,
    );
    expect(plain.ok && plain.dropped).toBeUndefined();
  });

  it("rejects a role it does not know", () => {
    const result = chatRequestToMessages({ messages: [{ role: "critic", content: "x" }] }, opts);
    expect(result).toMatchObject({ ok: false, param: "messages[0].role" });
  });

  it("drops empty text, and empty turns, but rejects a conversation with nothing left", () => {
    const out = translate({
      messages: [
        { role: "user", content: "" },
        { role: "assistant", content: "" },
        {
          role: "user",
          content: [
            { type: "text", text: "" },
            { type: "text", text: "real" },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([{ role: "user", content: [{ type: "text", text: "real" }] }]);
    const empty = chatRequestToMessages({ messages: [{ role: "system", content: "only" }] }, opts);
    expect(empty).toMatchObject({ ok: false, param: "messages" });
  });

  it("keeps assistant refusals as text", () => {
    const out = translate({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
        { role: "assistant", content: null, refusal: "No." },
      ],
    });
    expect(out.messages[1]?.content).toEqual([
      { type: "text", text: "I can't." },
      { type: "text", text: "No." },
    ]);
  });

  it("maps stop to stop_sequences, dropping whitespace-only ones", () => {
    expect(translate({ stop: "END" }).stop_sequences).toEqual(["END"]);
    expect(translate({ stop: ["\n", " ", "###", ""] }).stop_sequences).toEqual(["###"]);
    expect(translate({ stop: ["\n\n"] }).stop_sequences).toBeUndefined();
    expect(translate({ stop: null }).stop_sequences).toBeUndefined();
  });

  it("clamps temperature to 0..1 and passes top_p, top_k and stream", () => {
    expect(translate({ temperature: 1.7 }).temperature).toBe(1);
    expect(translate({ temperature: -1 }).temperature).toBe(0);
    expect(translate({ temperature: 0.3 }).temperature).toBe(0.3);
    expect(
      translate({ top_p: 0.9, top_k: 5, stream: true, stream_options: { include_usage: true } }),
    ).toMatchObject({
      top_p: 0.9,
      top_k: 5,
      stream: true,
    });
    expect(translate({ stream_options: { include_usage: true } })).not.toHaveProperty("stream_options");
  });

  it("maps user to metadata.user_id", () => {
    expect(translate({ user: "u-42" }).metadata).toEqual({ user_id: "u-42" });
    expect(translate({ user: "" })).not.toHaveProperty("metadata");
  });

  it("maps tools, defaulting absent parameters to an empty object schema", () => {
    const out = translate({
      tools: [
        {
          type: "function",
          function: {
            name: "f",
            description: "does f",
            parameters: { type: "object", properties: { a: {} } },
            strict: true,
          },
        },
        { type: "function", function: { name: "g" } },
      ],
    });
    expect(out.tools).toEqual([
      { name: "f", description: "does f", input_schema: { type: "object", properties: { a: {} } } },
      { name: "g", input_schema: { type: "object", properties: {} } },
    ]);
  });

  it.each([
    ["auto", false, { type: "auto" }],
    ["required", false, { type: "any" }],
    ["none", false, { type: "none" }],
    [{ type: "function", function: { name: "f" } }, false, { type: "tool", name: "f" }],
    ["auto", true, { type: "auto", disable_parallel_tool_use: true }],
    ["required", true, { type: "any", disable_parallel_tool_use: true }],
    [
      { type: "function", function: { name: "f" } },
      true,
      { type: "tool", name: "f", disable_parallel_tool_use: true },
    ],
    ["none", true, { type: "none" }],
    [undefined, true, { type: "auto", disable_parallel_tool_use: true }],
    [undefined, false, undefined],
  ])("tool_choice %j with parallel_tool_calls:false=%s → %j", (choice, noParallel, expected) => {
    const out = translate({
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: choice,
      parallel_tool_calls: noParallel ? false : true,
    });
    expect(out.tool_choice).toEqual(expected);
  });

  it("sends no tool_choice without tools", () => {
    expect(translate({ tool_choice: "required" })).not.toHaveProperty("tool_choice");
  });

  it("rejects n > 1, logprobs and top_logprobs, naming the param", () => {
    expect(chatRequestToMessages({ messages: [{ role: "user", content: "x" }], n: 2 }, opts)).toMatchObject({
      ok: false,
      param: "n",
      message: expect.stringContaining("n > 1"),
    });
    expect(chatRequestToMessages({ messages: [{ role: "user", content: "x" }], n: 1 }, opts).ok).toBe(true);
    expect(
      chatRequestToMessages({ messages: [{ role: "user", content: "x" }], logprobs: true }, opts),
    ).toMatchObject({
      ok: false,
      param: "logprobs",
    });
    expect(
      chatRequestToMessages({ messages: [{ role: "user", content: "x" }], logprobs: false }, opts).ok,
    ).toBe(true);
    expect(
      chatRequestToMessages({ messages: [{ role: "user", content: "x" }], top_logprobs: 3 }, opts),
    ).toMatchObject({ ok: false, param: "top_logprobs" });
  });

  it("rejects the legacy function role", () => {
    const result = chatRequestToMessages({ messages: [{ role: "function", name: "f", content: "x" }] }, opts);
    expect(result).toMatchObject({ ok: false, param: "messages[0].role" });
  });

  it("ignores fields it does not know and drops OpenAI-only ones", () => {
    const out = translate({
      seed: 1,
      response_format: { type: "json_object" },
      metadata: { a: "b" },
      frequency_penalty: 1,
      some_future_field: { x: 1 },
      messages: [{ role: "user", content: "hi", name: "bob", extra: true }],
    });
    expect(Object.keys(out).sort()).toEqual(["max_tokens", "messages", "model"]);
  });

  it.each([
    [null, null],
    ["string", null],
    [{ messages: "nope" }, "messages"],
    [{ messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    [{ messages: [{ role: "user", content: [{ type: "text" }] }] }, "messages[0].content[0].text"],
    [{ messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
    [{ messages: [{ role: "user", content: "x" }], max_tokens: -1 }, "max_tokens"],
    [{ messages: [{ role: "user", content: "x" }], tool_choice: "sometimes" }, "tool_choice"],
  ])("never throws on bad input: %j → param %s", (input, param) => {
    const result = chatRequestToMessages(input, opts);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.param).toBe(param);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });
});
