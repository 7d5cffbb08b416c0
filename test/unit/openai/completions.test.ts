import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import {
  anthropicSseToCompletionsSse,
  completionRequestToChat,
  completionsObserver,
  messageToTextCompletion,
} from "../../../src/formats/openai/completions";
import type { Usage } from "../../../src/formats/usage";
import { translateSseStream } from "../../../src/formats/translate/sse";
import { anthropicSse, encoder, parseSse, streamOf, translate } from "../translate/helpers";

const upstream = [
  {
    type: "message_start",
    message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 7 } },
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " world" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "max_tokens" }, usage: { output_tokens: 3 } },
  { type: "message_stop" },
];

describe("completionRequestToChat", () => {
  it("makes the prompt one user message and keeps the sampling fields", () => {
    expect(
      completionRequestToChat({
        model: "m",
        prompt: ["hi"],
        max_tokens: 5,
        temperature: 0.2,
        top_p: 0.9,
        stop: "X",
        stream: true,
        user: "u",
        n: 1,
        presence_penalty: 1,
      }),
    ).toEqual({
      ok: true,
      value: {
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 5,
        temperature: 0.2,
        top_p: 0.9,
        stop: "X",
        stream: true,
        user: "u",
      },
    });
  });

  it.each([
    [{ prompt: ["a", "b"] }, "prompt"],
    [{ prompt: [[1, 2]] }, "prompt"],
    [{ n: 2 }, "n"],
    [{ best_of: 2 }, "best_of"],
    [{ echo: true }, "echo"],
    [{ logprobs: 0 }, "logprobs"],
    [{ suffix: "s" }, "suffix"],
  ])("refuses %o naming %s", (extra, param) => {
    const out = completionRequestToChat({ model: "m", prompt: "p", ...extra });
    expect(out).toMatchObject({ ok: false, param });
  });
});

describe("messageToTextCompletion", () => {
  it("answers a text_completion with mapped finish reason and usage", () => {
    const out = messageToTextCompletion(
      {
        id: "msg_1",
        content: [{ type: "text", text: "Hi" }],
        stop_reason: "max_tokens",
        usage: { input_tokens: 3, output_tokens: 2, cache_read_input_tokens: 1 },
      },
      { model: "m", created: 10 },
    );
    expect(out).toEqual({
      ok: true,
      usage: {
        inputTokens: 4,
        cacheReadTokens: 1,
        cacheWriteTokens: 0,
        outputTokens: 2,
        reasoningTokens: 0,
        estimated: false,
      },
      value: {
        id: "msg_1",
        object: "text_completion",
        created: 10,
        model: "m",
        choices: [{ text: "Hi", index: 0, logprobs: null, finish_reason: "length" }],
        usage: {
          prompt_tokens: 4,
          completion_tokens: 2,
          total_tokens: 6,
          prompt_tokens_details: { cached_tokens: 1 },
        },
      },
    });
    expect(messageToTextCompletion({ nope: 1 }, { model: "m" }).ok).toBe(false);
  });
});

describe("anthropicSseToCompletionsSse", () => {
  it("writes text chunks, one finish chunk, the usage chunk when asked, and [DONE]; reports usage once", async () => {
    const reports: (Usage | null)[] = [];
    const out = await translate(
      anthropicSse(upstream),
      anthropicSseToCompletionsSse({ includeUsage: true, model: "m", onUsage: (u) => reports.push(u) }),
    );
    const data = parseSse(out).map((e) => e.data);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
    expect(chunks.map((c) => c.choices)).toEqual([
      [{ text: "Hello", index: 0, logprobs: null, finish_reason: null }],
      [{ text: " world", index: 0, logprobs: null, finish_reason: null }],
      [{ text: "", index: 0, logprobs: null, finish_reason: "length" }],
      [],
    ]);
    for (const c of chunks) expect(c).toMatchObject({ id: "msg_1", object: "text_completion", model: "m" });
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(reports).toEqual([
      {
        inputTokens: 7,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        outputTokens: 3,
        reasoningTokens: 0,
        estimated: false,
      },
    ]);
  });

  it("ends a cut upstream with an error frame the openai SDK throws on", async () => {
    const cut = anthropicSse(upstream.slice(0, 4));
    const body = translateSseStream(
      streamOf([encoder.encode(cut)]),
      anthropicSseToCompletionsSse({ includeUsage: false, model: "m" }),
    );
    const client = new OpenAI({
      apiKey: "k",
      baseURL: "http://gateway.test/v1",
      maxRetries: 0,
      fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
    });
    const stream = await client.completions.create({ model: "m", prompt: "x", stream: true });
    let text = "";
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
      })(),
    ).rejects.toThrow(/ended before message_stop/);
    expect(text).toBe("Hello");
  });
});

describe("completionsObserver", () => {
  it("counts text, reads usage, drops only the usage chunk it was told to, and knows the end", () => {
    const obs = completionsObserver({ dropUsageChunk: true });
    const frame = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;
    expect(obs.observe(frame({ choices: [{ text: "abc", finish_reason: null }] }))).toBe(true);
    expect(obs.finished(false)).toBe(false);
    expect(obs.observe(frame({ choices: [{ text: "", finish_reason: "stop" }] }))).toBe(true);
    expect(obs.finished(false)).toBe(true);
    expect(obs.finished(true)).toBe(false);
    expect(obs.observe(frame({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 1 } }))).toBe(
      false,
    );
    expect(obs.observe("data: [DONE]\n\n")).toBe(true);
    expect(obs.finished(true)).toBe(true);
    expect(obs.outputChars).toBe(3);
    expect(obs.usage).toEqual({
      inputTokens: 2,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
      estimated: false,
    });
    expect(obs.sawErrorEvent).toBe(false);
    obs.observe(frame({ error: { message: "x" } }));
    expect(obs.sawErrorEvent).toBe(true);
  });
});
