import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../tools/emulator/emulator.mjs";

/** The emulator's text completions endpoint (POST /mlflow/v1/completions). */

const PAT = "dapi-unit-completions-pat";
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ pat: PAT });
});
afterAll(async () => {
  await emu.close();
});

type Json = Record<string, unknown>;

const complete = (body: Json, headers: Record<string, string> = {}) =>
  fetch(`${emu.url}/mlflow/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${PAT}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "databricks-llama", ...body }),
  });

async function frames(res: Response): Promise<{ chunks: Json[]; done: boolean }> {
  const data = (await res.text())
    .split("\n\n")
    .filter((f) => f !== "")
    .map((f) => {
      expect(f.startsWith("data: ")).toBe(true);
      return f.slice("data: ".length);
    });
  return {
    done: data.at(-1) === "[DONE]",
    chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Json),
  };
}

describe("emulator: text completions", () => {
  it("answers a text_completion with one choice per prompt and usage", async () => {
    const res = await complete({ prompt: ["one", "two"] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      object: "text_completion",
      model: "databricks-llama",
      choices: [
        { index: 0, text: "Hello from the emulator. You said: one", finish_reason: "stop", logprobs: null },
        { index: 1, text: "Hello from the emulator. You said: two", finish_reason: "stop", logprobs: null },
      ],
      usage: { prompt_tokens: 2, completion_tokens: 19, total_tokens: 21 },
    });
    expect(body.id).toMatch(/^cmpl-emu-/);
  });

  it("truncates at max_tokens with finish_reason length", async () => {
    const body = (await (await complete({ prompt: "hi", max_tokens: 2 })).json()) as {
      choices: { text: string; finish_reason: string }[];
    };
    expect(body.choices[0]).toEqual(expect.objectContaining({ text: "Hello fr", finish_reason: "length" }));
  });

  it("streams text chunks, a finish chunk, the usage chunk when asked, then [DONE]", async () => {
    const res = await complete({ prompt: "stream", stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const { chunks, done } = await frames(res);
    expect(done).toBe(true);
    const texts = chunks.flatMap((c) => (c.choices as { text: string }[]).map((ch) => ch.text));
    expect(texts.join("")).toBe("Hello from the emulator. You said: stream");
    const finish = chunks.at(-2)?.choices as { finish_reason: string }[];
    expect(finish[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 2 } });
    for (const c of chunks.slice(0, -1)) expect(c.object).toBe("text_completion");
  });

  it("sends no usage chunk without include_usage", async () => {
    const { chunks } = await frames(await complete({ prompt: "x", stream: true }));
    expect(chunks.every((c) => (c.choices as unknown[]).length === 1 && !("usage" in c))).toBe(true);
  });

  it("rejects a missing or token-id prompt", async () => {
    expect((await complete({})).status).toBe(400);
    const res = await complete({ prompt: [1, 2, 3] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("prompt");
  });

  it("applies faults: status and in-band error_after", async () => {
    expect((await complete({ prompt: "x" }, { "x-emulator-fault": "status=503" })).status).toBe(503);
    const text = await (
      await complete({ prompt: "x", stream: true }, { "x-emulator-fault": "error_after=2" })
    ).text();
    expect(text.trim().split("\n\n")).toHaveLength(3);
    expect(text).toContain('"error"');
  });
});
