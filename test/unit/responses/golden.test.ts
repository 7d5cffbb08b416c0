import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { anthropicSseToResponsesSse } from "../../../src/formats/responses/anthropic-stream";
import { chatSseToResponsesSse } from "../../../src/formats/responses/chat-stream";
import { responseEcho } from "../../../src/formats/responses/request";
import type { SseTranslator } from "../../../src/formats/translate/sse";
import { encoder, splitBytes, translate } from "../translate/helpers";
import { checkResponsesStream, type CheckedStream } from "./helpers";

/**
 * Golden files: upstream streams as the providers send them (test/fixtures/responses/<chat|anthropic>/
 * <name>.sse) and the Responses event stream we expect (<name>.expected.sse). After an intended change,
 * regenerate with UPDATE_GOLDEN=1 and review the diff like code.
 */

const FIXTURES = fileURLToPath(new URL("../../fixtures/responses/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";
const shape = {
  model: "databricks-claude-sonnet-4",
  echo: responseEcho({ instructions: "You are Codex." }),
  responseId: "resp_golden",
  createdAt: 1741570283,
};

async function golden(dir: string, name: string, make: () => SseTranslator): Promise<CheckedStream> {
  const input = readFileSync(`${FIXTURES}${dir}/${name}.sse`, "utf8");
  const output = await translate(input, make());
  const expectedPath = `${FIXTURES}${dir}/${name}.expected.sse`;
  if (update) writeFileSync(expectedPath, output);
  expect(existsSync(expectedPath), `missing ${expectedPath}: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(output).toBe(readFileSync(expectedPath, "utf8"));
  // However the network splits the upstream bytes (every byte apart, here), the client stream is the same.
  const bytes = encoder.encode(input);
  const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
  expect(await translate(splitBytes(bytes, everyByte), make())).toBe(output);
  const checked = checkResponsesStream(output);
  expect(checked.violations).toEqual([]);
  return checked;
}

const response = (s: CheckedStream) => s.terminal?.response as Record<string, unknown>;

describe("golden: OpenAI chat upstream → Responses", () => {
  const make = () => chatSseToResponsesSse(shape);

  it("text", async () => {
    const s = await golden("chat", "text", make);
    expect(s.terminal?.type).toBe("response.completed");
    expect(s.items.map((i) => i.type)).toEqual(["message"]);
    expect(response(s).usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it("tools", async () => {
    const s = await golden("chat", "tools", make);
    expect(s.items.some((i) => i.type === "function_call")).toBe(true);
    for (const item of s.items.filter((i) => i.type === "function_call")) {
      expect(() => JSON.parse(String(item.arguments)) as unknown).not.toThrow();
    }
  });

  it("interleaved tool calls (the emulator's shape)", async () => {
    const s = await golden("chat", "tools-interleaved", make);
    expect(s.items.map((i) => [i.call_id, i.arguments])).toEqual([
      ["call_1", '{"city":"emulated"}'],
      ["call_2", '{"city":"emulated"}'],
    ]);
    expect(response(s).usage).toMatchObject({ input_tokens: 7, output_tokens: 15, total_tokens: 22 });
  });

  it("Databricks reasoning parts", async () => {
    const s = await golden("chat", "databricks-reasoning", make);
    expect(s.items.map((i) => i.type)).toEqual(["reasoning", "message"]);
    expect(s.items[0]?.summary).toEqual([
      { type: "summary_text", text: "The user wants 27 × 453. That is 12231." },
    ]);
    expect(s.text[1]).toBe("27 × 453 = **12,231**");
  });

  it("upstream error → response.failed + error", async () => {
    const s = await golden("chat", "error", make);
    expect(s.types.slice(-2)).toEqual(["response.failed", "error"]);
  });

  it("cut → response.failed + error (stream_truncated)", async () => {
    const s = await golden("chat", "cut", make);
    expect(s.error).toMatchObject({ code: "stream_truncated" });
  });
});

describe("golden: Anthropic upstream → Responses", () => {
  const make = () => anthropicSseToResponsesSse(shape);

  it("text with multi-byte characters", async () => {
    const s = await golden("anthropic", "text", make);
    expect(s.text[0]).toBe("Bonjour! Le café est prêt ☕ — 日本語も大丈夫です 👋");
    expect(response(s).usage).toMatchObject({ input_tokens: 472, output_tokens: 19, total_tokens: 491 });
  });

  it("text then two tool calls, with cache usage", async () => {
    const s = await golden("anthropic", "tools", make);
    expect(s.items.map((i) => i.type)).toEqual(["message", "function_call", "function_call"]);
    expect(s.items.slice(1).map((i) => [i.call_id, JSON.parse(String(i.arguments)) as unknown])).toEqual([
      ["toolu_01T1x1fJ34qAmk2tNTrN7Up6", { location: "San Francisco, CA", unit: "fahrenheit" }],
      ["toolu_01VXvNbbUJRKk3ec3ZMwkpLJ", { location: "Zürich" }],
    ]);
    expect(response(s).usage).toMatchObject({
      input_tokens: 3544,
      input_tokens_details: { cached_tokens: 2048 },
      output_tokens: 89,
    });
  });

  it("thinking then text", async () => {
    const s = await golden("anthropic", "thinking", make);
    expect(s.items.map((i) => i.type)).toEqual(["reasoning", "message"]);
  });

  it("upstream error → response.failed + error", async () => {
    const s = await golden("anthropic", "error", make);
    expect(s.types.slice(-2)).toEqual(["response.failed", "error"]);
  });

  it("cut → response.failed + error (stream_truncated)", async () => {
    const s = await golden("anthropic", "cut", make);
    expect(s.error).toMatchObject({ code: "stream_truncated" });
  });
});
