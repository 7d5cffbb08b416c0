import { describe, expect, it } from "vitest";
import {
  admin,
  anthropicFormat,
  chat,
  chatSettled,
  createKey,
  emulatorRequests,
  putProvider,
  setup,
  sseData,
  uniqueName,
  type Json,
} from "./helpers";

/** POST /v1/completions: passthrough to openai providers, onto Messages for anthropic providers. */

const complete = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  chat(key, body, headers, "/v1/completions");

type TextCompletion = {
  id: string;
  object: string;
  model: string;
  choices: { text: string; index: number; logprobs: null; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

/** The upstream request whose body mentions `marker`. */
async function upstream(marker: string) {
  return (await emulatorRequests()).filter((r) => JSON.stringify(r.body).includes(marker)).at(-1);
}

/** Text completion SSE → the chunks (JSON) and whether it ended with [DONE]; errors kept as chunks. */
function chunksOf(text: string): { chunks: (TextCompletion & { error?: Json })[]; done: boolean } {
  const data = sseData(text);
  return {
    done: data.at(-1) === "[DONE]",
    chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as TextCompletion & { error?: Json }),
  };
}

const joined = (chunks: TextCompletion[]) => chunks.map((c) => c.choices[0]?.text ?? "").join("");

describe("POST /v1/completions to an openai provider (passthrough)", () => {
  it("forwards the body with only model rewritten and relays the answer", async () => {
    const { key, provider } = await setup();
    const marker = uniqueName("prompt");
    const res = await complete(key, {
      model: `${provider}/databricks-meta-llama`,
      prompt: marker,
      max_tokens: 50,
      custom_field: { kept: true },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TextCompletion;
    expect(body.object).toBe("text_completion");
    expect(body.choices[0]?.text).toBe(`Hello from the emulator. You said: ${marker}`);
    expect(body.usage?.total_tokens).toBeGreaterThan(0);
    const seen = await upstream(marker);
    expect(seen?.path).toBe("/mlflow/v1/completions");
    expect(seen?.body).toEqual({
      model: "databricks-meta-llama",
      prompt: marker,
      max_tokens: 50,
      custom_field: { kept: true },
    });
  });

  it("streams, asking upstream for usage and removing the usage chunk the client did not ask for", async () => {
    const { key, provider } = await setup();
    const marker = uniqueName("s");
    const res = await complete(key, { model: `${provider}/m`, prompt: marker, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const { chunks, done } = chunksOf(await res.text());
    expect(done).toBe(true);
    expect(joined(chunks)).toBe(`Hello from the emulator. You said: ${marker}`);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect((await upstream(marker))?.body?.stream_options).toEqual({ include_usage: true });

    const withUsage = chunksOf(
      await (
        await complete(key, {
          model: `${provider}/m`,
          prompt: "u",
          stream: true,
          stream_options: { include_usage: true },
        })
      ).text(),
    );
    expect(withUsage.chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 1 } });
  });

  it("ends a cut stream with an in-band error, never a clean end", async () => {
    const { key, provider } = await setup();
    const res = await complete(
      key,
      { model: `${provider}/m`, prompt: "x", stream: true },
      { "x-emulator-fault": "cut_after=2" },
    );
    const { chunks, done } = chunksOf(await res.text());
    expect(done).toBe(false);
    expect(chunks.at(-1)?.error).toBeDefined();
  });
});

describe("POST /v1/completions to an anthropic provider (onto Messages)", () => {
  it("sends the prompt as one user turn and answers a text_completion", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const marker = uniqueName("ant");
    const res = await complete(key, {
      model: `${provider}/databricks-claude-sonnet-4`,
      prompt: [marker],
      temperature: 1.5,
      stop: ["END"],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TextCompletion;
    expect(body).toMatchObject({
      object: "text_completion",
      model: "databricks-claude-sonnet-4",
      choices: [
        {
          text: `Hello from the emulator. You said: ${marker}`,
          index: 0,
          logprobs: null,
          finish_reason: "stop",
        },
      ],
    });
    expect(body.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage?.total_tokens).toBe(
      (body.usage?.prompt_tokens ?? 0) + (body.usage?.completion_tokens ?? 0),
    );
    const seen = await upstream(marker);
    expect(seen?.path).toBe("/anthropic/v1/messages");
    expect(seen?.body).toMatchObject({
      model: "databricks-claude-sonnet-4",
      max_tokens: 4096,
      temperature: 1,
      stop_sequences: ["END"],
      messages: [{ role: "user", content: [{ type: "text", text: marker }] }],
    });
  });

  it("maps max_tokens and the finish reason (length)", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const body = (await (
      await complete(key, { model: `${provider}/m`, prompt: "long", max_tokens: 2 })
    ).json()) as TextCompletion;
    expect(body.choices[0]).toMatchObject({ text: "Hello fr", finish_reason: "length" });
  });

  it("streams text completion chunks, a finish chunk, usage when asked, and [DONE]", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await complete(key, {
      model: `${provider}/m`,
      prompt: "stream me",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    const { chunks, done } = chunksOf(await res.text());
    expect(done).toBe(true);
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    for (const c of chunks) expect(c.object).toBe("text_completion");
    expect(joined(withChoices)).toBe("Hello from the emulator. You said: stream me");
    expect(withChoices.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(withChoices.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
  });

  it("answers an upstream mid-stream error and a cut with an in-band error", async () => {
    const { key, provider } = await setup(anthropicFormat());
    for (const fault of ["error_after=4", "cut_after=4"]) {
      const res = await complete(
        key,
        { model: `${provider}/m`, prompt: "x", stream: true },
        { "x-emulator-fault": fault },
      );
      const { chunks, done } = chunksOf(await res.text());
      expect(done).toBe(false);
      expect(chunks.at(-1)?.error).toMatchObject({ message: expect.any(String) });
    }
  });

  it.each([
    ["n > 1", { n: 2 }, "n"],
    ["best_of > 1", { best_of: 3 }, "best_of"],
    ["echo", { echo: true }, "echo"],
    ["logprobs", { logprobs: 2 }, "logprobs"],
    ["suffix", { suffix: "end" }, "suffix"],
    ["several prompts", { prompt: ["a", "b"] }, "prompt"],
    ["a token-id prompt", { prompt: [1, 2, 3] }, "prompt"],
  ])("400 naming the field for %s", async (_n, extra, param) => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await complete(key, { model: `${provider}/m`, prompt: "x", ...extra });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { param: string; message: string } };
    expect(err.error.param).toBe(param);
    expect(err.error.message).toContain(param);
  });
});

describe("POST /v1/completions: errors", () => {
  it.each([["openai"], ["anthropic"]])("maps upstream 500 → 502 and 429 → 429 (%s provider)", async (fmt) => {
    const { key, provider } = await setup(fmt === "anthropic" ? anthropicFormat() : {});
    const body = { model: `${provider}/m`, prompt: "x" };
    expect((await complete(key, body, { "x-emulator-fault": "status=500" })).status).toBe(502);
    const limited = await complete(
      key,
      { ...body, stream: true },
      { "x-emulator-fault": "status=429;retry_after=7" },
    );
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
  });

  it("400 naming 'completions' when the provider does not allow them", async () => {
    const { key, provider } = await setup({ requests: ["chat", "embeddings"] });
    const res = await complete(key, { model: `${provider}/m`, prompt: "x" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /does not allow 'completions'/,
    );
  });

  it("400 naming stream when it is not a boolean", async () => {
    const { key } = await setup();
    const res = await complete(key, { model: "p/m", prompt: "x", stream: "yes" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("stream");
  });

  it("a missing prompt: 400 naming it from the translation, forwarded as sent on passthrough", async () => {
    const translated = await setup(anthropicFormat());
    const res = await complete(translated.key, { model: `${translated.provider}/m` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("prompt");

    const { key, provider } = await setup();
    const marker = crypto.randomUUID();
    await complete(key, { model: `${provider}/m`, prompt_v2: marker });
    expect((await upstream(marker))?.body).toEqual({ model: "m", prompt_v2: marker });
  });
});

/** Tokens the key's window has counted (read after the call's recording is done). */
async function tokensSpent(id: string, limit: number): Promise<number> {
  const live = (await admin("GET", `/keys/${id}`)).json.live as { tokens?: { remaining: number } };
  return limit - (live.tokens?.remaining ?? limit);
}

describe("POST /v1/completions: accounting", () => {
  it.each([["openai"], ["anthropic"]])(
    "counts a streamed completion's tokens against the key (%s)",
    async (fmt) => {
      const provider = uniqueName();
      await putProvider(provider, fmt === "anthropic" ? anthropicFormat() : {});
      const { id, key } = await createKey({ limits: { tpm: 100_000 } });
      const { text } = await chatSettled(
        key,
        { model: `${provider}/m`, prompt: "count me", stream: true, stream_options: { include_usage: true } },
        {},
        "/v1/completions",
      );
      const { chunks } = chunksOf(text);
      const usage = chunks.at(-1)?.usage;
      expect(usage?.total_tokens).toBeGreaterThan(0);
      expect(await tokensSpent(id, 100_000)).toBe(usage?.total_tokens);
    },
  );
});
