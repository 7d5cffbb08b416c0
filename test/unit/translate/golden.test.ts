import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { anthropicSseToOpenAiSse } from "../../../src/formats/translate/anthropic-to-openai-stream";
import { openAiSseToAnthropicSse } from "../../../src/formats/translate/openai-to-anthropic-stream";
import type { SseTranslator } from "../../../src/formats/translate/sse";
import type { Usage } from "../../../src/formats/usage";
import { assembleAnthropic, assembleOpenAi, encoder, splitBytes, translate } from "./helpers";

/**
 * Golden files: upstream streams in the exact wire shape the providers send (test/fixtures/translate/<dir>/
 * <name>.sse) and the translated client stream we expect (<name>.expected.sse). After an intended change,
 * regenerate with UPDATE_GOLDEN=1 and review the diff like code.
 */

const FIXTURES = fileURLToPath(new URL("../../fixtures/translate/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";

async function checkGolden(dir: string, name: string, make: () => SseTranslator): Promise<string> {
  const input = readFileSync(`${FIXTURES}${dir}/${name}.sse`, "utf8");
  const output = await translate(input, make());
  const expectedPath = `${FIXTURES}${dir}/${name}.expected.sse`;
  if (update) writeFileSync(expectedPath, output);
  expect(existsSync(expectedPath), `missing ${expectedPath}: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(output).toBe(readFileSync(expectedPath, "utf8"));
  // However the network splits it, byte by byte included, the client gets the same stream.
  const bytes = encoder.encode(input);
  const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
  expect(await translate(splitBytes(bytes, everyByte), make())).toBe(output);
  return output;
}

describe("golden: Anthropic upstream → OpenAI client", () => {
  const usages: (Usage | null)[] = [];
  const make = () =>
    anthropicSseToOpenAiSse({
      includeUsage: true,
      model: "anthropic/claude-sonnet-4",
      created: 1741570283,
      onUsage: (u) => usages.push(u),
    });

  it("text with multi-byte characters", async () => {
    const a = assembleOpenAi(await checkGolden("anthropic-to-openai", "text", make));
    expect(a).toMatchObject({
      role: "assistant",
      content: "Bonjour! Le café est prêt ☕ — 日本語も大丈夫です 👋",
      finishReason: "stop",
      usage: { prompt_tokens: 472, completion_tokens: 19, total_tokens: 491 },
      done: true,
      violations: [],
    });
  });

  it("text then two tool calls, with cache usage", async () => {
    const a = assembleOpenAi(await checkGolden("anthropic-to-openai", "tools", make));
    expect(a.violations).toEqual([]);
    expect(a.content).toBe("I'll check the weather in both cities at once.");
    expect(a.toolCalls).toEqual([
      {
        id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
        name: "get_weather",
        arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
      },
      { id: "toolu_01VXvNbbUJRKk3ec3ZMwkpLJ", name: "get_weather", arguments: '{"location": "Zürich"}' },
    ]);
    expect(a.finishReason).toBe("tool_calls");
    expect(a.usage).toEqual({
      prompt_tokens: 3544,
      completion_tokens: 89,
      total_tokens: 3633,
      prompt_tokens_details: { cached_tokens: 2048 },
    });
  });

  it("thinking then text", async () => {
    const a = assembleOpenAi(await checkGolden("anthropic-to-openai", "thinking", make));
    expect(a).toMatchObject({
      reasoning: "27 * 453: 27 * 400 = 10800, 27 * 53 = 1431. Sum: 12231.",
      content: "27 × 453 = **12,231**",
      violations: [],
    });
  });

  it("an upstream error mid-stream", async () => {
    const a = assembleOpenAi(await checkGolden("anthropic-to-openai", "error", make));
    expect(a).toMatchObject({ content: "The first step is", done: false, violations: [] });
    expect(a.error).toEqual({
      message: "upstream error: Overloaded",
      type: "upstream_error",
      code: "overloaded_error",
    });
  });

  it("a stream cut short inside an event", async () => {
    usages.length = 0;
    const a = assembleOpenAi(await checkGolden("anthropic-to-openai", "cut", make));
    expect(a.toolCalls).toEqual([
      {
        id: "toolu_01A09q90qw90lq917835lq9",
        name: "write_file",
        arguments: '{"path": "src/main.ts", "content": "export const x',
      },
    ]);
    expect(a).toMatchObject({ done: false, finishReason: null, violations: [] });
    expect(a.error?.code).toBe("stream_truncated");
    expect(usages[0]).toEqual({
      inputTokens: 88,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
      estimated: false,
    });
  });
});

describe("golden: OpenAI upstream → Anthropic client", () => {
  const usages: (Usage | null)[] = [];
  const make = () =>
    openAiSseToAnthropicSse({
      model: "openai/gpt-4o",
      messageId: "msg_bricklane_golden",
      onUsage: (u) => usages.push(u),
    });

  it("text with multi-byte characters", async () => {
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "text", make));
    expect(a).toMatchObject({
      blocks: [{ type: "text", text: "Bonjour! Le café est prêt ☕ — 日本語も大丈夫です 👋" }],
      stopReason: "end_turn",
      usage: { input_tokens: 472, output_tokens: 19 },
      stopped: true,
      violations: [],
    });
  });

  it("text then three tool calls, with fragments of two calls in one chunk", async () => {
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "tools", make));
    expect(a.violations).toEqual([]);
    expect(a.blocks).toEqual([
      { type: "text", text: "I'll check both cities." },
      {
        type: "tool_use",
        id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
        name: "get_weather",
        json: '{"location":"San Francisco, CA"}',
      },
      {
        type: "tool_use",
        id: "call_ABCDEFGHIJKLMNOPQRSTUVWX",
        name: "get_weather",
        json: '{"location":"Zürich"}',
      },
      { type: "tool_use", id: "call_3f1c2d", name: "get_time", json: "{}" },
    ]);
    expect(a.stopReason).toBe("tool_use");
    expect(a.usage).toEqual({
      input_tokens: 1552,
      output_tokens: 71,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 2048,
    });
  });

  it("two tool calls with interleaved argument fragments (emulator, tool_calls=2)", async () => {
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "tools-interleaved", make));
    expect(a.violations).toEqual([]);
    expect(a.error).toBeNull();
    expect(a.blocks).toEqual([
      { type: "tool_use", id: "call_1", name: "get_weather", json: '{"city":"emulated"}' },
      { type: "tool_use", id: "call_2", name: "get_weather", json: '{"city":"emulated"}' },
    ]);
    expect(a.stopReason).toBe("tool_use");
    expect(a.usage).toMatchObject({ input_tokens: 7, output_tokens: 15 });
  });

  it("Databricks reasoning parts, usage on the finish chunk", async () => {
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "databricks-reasoning", make));
    expect(a).toMatchObject({
      blocks: [
        {
          type: "thinking",
          thinking: "The user wants 27 × 453. That is 12231.",
          signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3h",
        },
        { type: "text", text: "27 × 453 = **12,231**" },
      ],
      stopReason: "end_turn",
      usage: { input_tokens: 44, output_tokens: 58 },
      violations: [],
    });
  });

  it("an upstream error mid-stream", async () => {
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "error", make));
    expect(a).toMatchObject({
      blocks: [{ type: "text", text: "The first step is" }],
      stopped: false,
      violations: [],
    });
    expect(a.error).toEqual({
      type: "api_error",
      message: "upstream error: The server had an error while processing your request. Sorry about that!",
    });
  });

  it("a stream cut short inside an event", async () => {
    usages.length = 0;
    const a = assembleAnthropic(await checkGolden("openai-to-anthropic", "cut", make));
    expect(a.blocks).toEqual([
      {
        type: "tool_use",
        id: "call_Zx81",
        name: "write_file",
        json: '{"path": "src/main.ts", "content": "export const x',
      },
    ]);
    expect(a).toMatchObject({ stopped: false, violations: [] });
    expect(a.error?.type).toBe("api_error");
    expect(usages[0]).toEqual(null);
  });
});
