import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../tools/emulator/emulator.mjs";

/** The emulator's cache and reasoning faults: usage as a cached turn of each format reports it. */

const PAT = "dapi-unit-test-pat";
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ pat: PAT });
});
afterAll(async () => {
  await emu.close();
});

type Json = Record<string, unknown>;

function post(path: string, body: Json, fault?: string) {
  return fetch(`${emu.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${PAT}`,
      "content-type": "application/json",
      ...(fault ? { "x-emulator-fault": fault } : {}),
    },
    body: JSON.stringify(body),
  });
}

const model = "databricks-claude-sonnet-4";
// "hi there" is 8 characters: 2 tokens; the reply "Hello from the emulator. You said: hi there" is 11.
const chatBody = { model, messages: [{ role: "user", content: "hi there" }] };
const messagesBody = { model, max_tokens: 256, messages: [{ role: "user", content: "hi there" }] };

function sseData(text: string): Json[] {
  return text
    .split("\n\n")
    .map((frame) =>
      frame
        .split("\n")
        .find((line) => line.startsWith("data: "))
        ?.slice(6),
    )
    .filter((data): data is string => data !== undefined && data !== "[DONE]")
    .map((data) => JSON.parse(data) as Json);
}

describe("emulator: cache_read, cache_write and reasoning faults", () => {
  const fault = "cache_read=1000;cache_write=100;reasoning=7";

  it("OpenAI chat JSON: reads and writes inside prompt_tokens, reads and reasoning named in the details", async () => {
    const body = (await (await post("/mlflow/v1/chat/completions", chatBody, fault)).json()) as Json;
    expect(body.usage).toEqual({
      prompt_tokens: 2 + 1000 + 100,
      completion_tokens: 11 + 7,
      total_tokens: 1102 + 18,
      prompt_tokens_details: { cached_tokens: 1000 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
  });

  it("OpenAI chat SSE: the usage chunk says the same", async () => {
    const res = await post(
      "/mlflow/v1/chat/completions",
      { ...chatBody, stream: true, stream_options: { include_usage: true } },
      fault,
    );
    const usages = sseData(await res.text())
      .map((c) => c.usage)
      .filter(Boolean);
    expect(usages).toEqual([
      {
        prompt_tokens: 1102,
        completion_tokens: 18,
        total_tokens: 1120,
        prompt_tokens_details: { cached_tokens: 1000 },
        completion_tokens_details: { reasoning_tokens: 7 },
      },
    ]);
  });

  it("OpenAI text completions report them the same way", async () => {
    const res = await post("/mlflow/v1/completions", { model, prompt: "hi there" }, "cache_read=40");
    const body = (await res.json()) as Json;
    expect(body.usage).toEqual({
      prompt_tokens: 42,
      completion_tokens: 11,
      total_tokens: 53,
      prompt_tokens_details: { cached_tokens: 40 },
    });
  });

  it("Anthropic JSON: the uncached rest in input_tokens, the cache's reads and writes beside it", async () => {
    const body = (await (await post("/anthropic/v1/messages", messagesBody, fault)).json()) as Json;
    expect(body.usage).toEqual({
      input_tokens: 2,
      output_tokens: 11 + 7,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 1000,
    });
  });

  it("Anthropic SSE: message_start carries the input counts, message_delta the output", async () => {
    const res = await post("/anthropic/v1/messages", { ...messagesBody, stream: true }, fault);
    const events = sseData(await res.text());
    expect(events[0]).toMatchObject({
      type: "message_start",
      message: {
        usage: {
          input_tokens: 2,
          output_tokens: 1,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 1000,
        },
      },
    });
    expect(events.find((e) => e.type === "message_delta")?.usage).toEqual({ output_tokens: 18 });
  });

  it("without them the usage keeps its plain shape, and a bad count is a 400", async () => {
    const body = (await (await post("/mlflow/v1/chat/completions", chatBody)).json()) as Json;
    expect(body.usage).toEqual({ prompt_tokens: 2, completion_tokens: 11, total_tokens: 13 });
    const bad = await post("/mlflow/v1/chat/completions", chatBody, "cache_read=-5");
    expect(bad.status).toBe(400);
  });
});
