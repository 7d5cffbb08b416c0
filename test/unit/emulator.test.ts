import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../tools/emulator/emulator.mjs";

const PAT = "dapi-unit-test-pat";
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ pat: PAT });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => {
  emu.clearRequests();
  emu.clearFaults();
});

type Json = Record<string, unknown>;

function post(path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${emu.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${PAT}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

const chat = (extra: Json = {}, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  post(
    "/mlflow/v1/chat/completions",
    { model: "databricks-claude-sonnet-4", messages: [{ role: "user", content: "hi there" }], ...extra },
    headers,
    signal,
  );

const anthropic = (extra: Json = {}, headers: Record<string, string> = {}) =>
  post(
    "/anthropic/v1/messages",
    {
      model: "databricks-claude-sonnet-4",
      max_tokens: 256,
      messages: [{ role: "user", content: "hi" }],
      ...extra,
    },
    headers,
  );

/** OpenAI stream: the JSON of every `data:` frame except [DONE], plus whether [DONE] came last. */
async function openaiFrames(res: Response) {
  const text = await res.text();
  const frames = text.split("\n\n").filter((f) => f !== "");
  for (const f of frames) expect(f.startsWith("data: ")).toBe(true);
  const data = frames.map((f) => f.slice("data: ".length));
  return {
    done: data.at(-1) === "[DONE]",
    chunks: data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Json),
  };
}

/** Anthropic stream: [event, data] of every frame; checks the event line matches data.type. */
async function anthropicEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((f) => f !== "")
    .map((f) => {
      const [eventLine, dataLine] = f.split("\n");
      const type = eventLine!.replace(/^event: /, "");
      const data = JSON.parse(dataLine!.replace(/^data: /, "")) as Json;
      expect(data.type).toBe(type);
      return data;
    });
}

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" }, metric: { type: "boolean" }, x: {} },
    },
  },
};

describe("emulator: auth, routing, recording", () => {
  it("refuses to bind a non-loopback host", async () => {
    await expect(startEmulator({ host: "0.0.0.0" })).rejects.toThrow(/non-loopback/);
  });

  it("answers 401 in each endpoint's format without the PAT", async () => {
    const oai = await chat({}, { authorization: "Bearer wrong" });
    expect(oai.status).toBe(401);
    expect(((await oai.json()) as { error: Json }).error.type).toBe("authentication_error");
    const ant = await anthropic({}, { authorization: "" });
    expect(ant.status).toBe(401);
    expect(await ant.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const uc = await fetch(`${emu.url}/api/2.1/unity-catalog/models`);
    expect(uc.status).toBe(401);
    expect(await uc.json()).toMatchObject({ error_code: "UNAUTHENTICATED" });
  });

  it("answers 404 JSON for unknown routes", async () => {
    const res = await post("/mlflow/v1/nope", {});
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
  });

  it("records requests with lowercased headers and parsed bodies", async () => {
    await anthropic({}, { "Anthropic-Version": "2023-06-01", "anthropic-beta": "a,b" });
    expect(emu.requests).toHaveLength(1);
    const [r] = emu.requests;
    expect(r).toMatchObject({ method: "POST", path: "/anthropic/v1/messages", body: { max_tokens: 256 } });
    expect(r!.headers["anthropic-version"]).toBe("2023-06-01");
    expect(r!.headers["anthropic-beta"]).toBe("a,b");
    expect(r!.headers.authorization).toBe(`Bearer ${PAT}`);
    const viaApi = (await (await fetch(`${emu.url}/__emulator/requests`)).json()) as unknown[];
    expect(viaApi).toHaveLength(1);
    await fetch(`${emu.url}/__emulator/requests`, { method: "DELETE" });
    expect(emu.requests).toHaveLength(0);
  });
});

describe("emulator: OpenAI chat completions", () => {
  it("answers a deterministic chat.completion with usage", async () => {
    const res = await chat();
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as Json;
    const content = "Hello from the emulator. You said: hi there";
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "databricks-claude-sonnet-4",
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 2, completion_tokens: Math.ceil(content.length / 4), total_tokens: 2 + 11 },
    });
  });

  it("reads text parts and truncates at max_tokens with finish_reason length", async () => {
    const messages = [{ role: "user", content: [{ type: "text", text: "part one" }] }];
    const body = (await (await chat({ messages, max_tokens: 2 })).json()) as Json;
    expect(body).toMatchObject({
      choices: [{ message: { content: "Hello fr" }, finish_reason: "length" }],
      usage: { completion_tokens: 2 },
    });
  });

  it("streams role, 5 content chunks, finish_reason, usage chunk, [DONE]", async () => {
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { done, chunks } = await openaiFrames(res);
    expect(done).toBe(true);
    type Chunk = { choices: { delta: Json; finish_reason: string | null }[]; usage: Json | null };
    const cs = chunks as unknown as Chunk[];
    expect(cs[0]!.choices[0]!.delta.role).toBe("assistant");
    const content = cs.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    expect(content).toBe("Hello from the emulator. You said: hi there");
    expect(
      cs.filter((c) => typeof c.choices[0]?.delta.content === "string" && c.choices[0]!.delta.content !== ""),
    ).toHaveLength(5);
    expect(cs.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(cs.at(-1)!.choices).toEqual([]);
    expect(cs.at(-1)!.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 11, total_tokens: 13 });
    for (const c of cs.slice(0, -1)) expect(c.usage).toBeNull();
  });

  it("sends no usage chunk (and no usage key) without include_usage", async () => {
    const { chunks } = await openaiFrames(await chat({ stream: true }));
    for (const c of chunks) expect("usage" in c).toBe(false);
  });

  it("streams interleaved tool calls that reassemble into valid JSON", async () => {
    const res = await chat({ stream: true, tools: [weatherTool] }, { "x-emulator-fault": "tool_calls=2" });
    const { chunks } = await openaiFrames(res);
    type Delta = {
      index: number;
      id?: string;
      type?: string;
      function: { name?: string; arguments?: string };
    };
    const deltas = chunks.flatMap(
      (c) => ((c.choices as { delta: { tool_calls?: Delta[] } }[])[0]?.delta.tool_calls ?? []) as Delta[],
    );
    const order = deltas.map((d) => d.index);
    expect(order.slice(0, 4)).toEqual([0, 1, 0, 1]);
    const calls: { id?: string; name?: string; args: string; fragments: number }[] = [];
    for (const d of deltas) {
      const call = (calls[d.index] ??= { args: "", fragments: 0 });
      if (d.id) Object.assign(call, { id: d.id, name: d.function.name });
      if (d.id) expect(d).toMatchObject({ type: "function", function: { arguments: "" } });
      else call.fragments++;
      call.args += d.function.arguments ?? "";
    }
    expect(calls.map((c) => c.id)).toEqual(["call_1", "call_2"]);
    for (const c of calls) {
      expect(c.name).toBe("get_weather");
      expect(c.fragments).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(c.args)).toEqual({ city: "emulated", days: 42, metric: true, x: null });
    }
    const last = chunks.at(-1) as { choices: { finish_reason: string }[] };
    expect(last.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("answers a tool result with text that mentions it", async () => {
    const messages = [
      { role: "user", content: "weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "sunny, 21C" },
    ];
    const body = (await (await chat({ messages, tools: [weatherTool] })).json()) as {
      choices: { message: { content: string }; finish_reason: string }[];
    };
    expect(body.choices[0]!.finish_reason).toBe("stop");
    expect(body.choices[0]!.message.content).toContain("sunny, 21C");
  });

  it("calls Codex's exec_command with the command after the trigger phrase run-bash:", async () => {
    const tools = [
      weatherTool,
      { type: "function", function: { name: "exec_command", parameters: { type: "object" } } },
    ];
    const messages = [{ role: "user", content: "please\nrun-bash: echo codex > proof.txt\nthanks" }];
    const body = (await (await chat({ messages, tools })).json()) as {
      choices: { message: { tool_calls: { function: { name: string; arguments: string } }[] } }[];
    };
    const call = body.choices[0]!.message.tool_calls[0]!.function;
    expect(call.name).toBe("exec_command");
    expect(JSON.parse(call.arguments)).toEqual({ cmd: "echo codex > proof.txt" });
  });
});

describe("emulator: Anthropic messages", () => {
  it("requires max_tokens and messages", async () => {
    const res = await post("/anthropic/v1/messages", {
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("answers a message with usage including cache fields", async () => {
    const body = await (await anthropic({ system: [{ type: "text", text: "be brief" }] })).json();
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: "Hello from the emulator. You said: hi" }],
      stop_reason: "end_turn",
      usage: {
        input_tokens: 3,
        output_tokens: 10,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it("streams events in order with event lines", async () => {
    const events = await anthropicEvents(await anthropic({ stream: true }));
    const types = events.map((e) => e.type);
    expect(types).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      ...Array(5).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0]).toMatchObject({ message: { usage: { input_tokens: 1, output_tokens: 1 } } });
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 10 },
    });
  });

  it("streams tool_use blocks with input_json_delta fragments", async () => {
    const tools = [
      { name: "lookup", input_schema: { type: "object", properties: { q: { type: "string" } } } },
    ];
    const res = await anthropic({ stream: true, tools }, { "x-emulator-fault": "tool_calls=2" });
    const events = await anthropicEvents(res);
    const starts = events.filter((e) => e.type === "content_block_start");
    expect(starts.map((s) => s.index)).toEqual([0, 1]);
    for (const index of [0, 1]) {
      const parts = events
        .filter((e) => e.type === "content_block_delta" && e.index === index)
        .map((e) => (e.delta as { partial_json: string }).partial_json);
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(parts.join(""))).toEqual({ q: "emulated" });
    }
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: "tool_use" } });
  });

  it("answers a tool_result with text", async () => {
    const messages = [
      { role: "user", content: "find it" },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "lookup", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "found: 7" }] },
    ];
    const body = (await (await anthropic({ messages, tools: [{ name: "lookup" }] })).json()) as {
      content: { text: string }[];
      stop_reason: string;
    };
    expect(body.stop_reason).toBe("end_turn");
    expect(body.content[0]!.text).toContain("found: 7");
  });

  it("calls Claude Code's Bash tool with the command after run-bash:, not the first tool", async () => {
    const messages = [{ role: "user", content: [{ type: "text", text: "run-bash: echo hi > p.txt" }] }];
    const tools = [{ name: "Agent", input_schema: { type: "object" } }, { name: "Bash" }];
    const body = (await (await anthropic({ messages, tools })).json()) as {
      content: { type: string; name: string; input: Json }[];
      stop_reason: string;
    };
    expect(body.stop_reason).toBe("tool_use");
    expect(body.content[0]).toMatchObject({
      type: "tool_use",
      name: "Bash",
      input: { command: "echo hi > p.txt" },
    });
  });

  it("counts tokens", async () => {
    const res = await post("/anthropic/v1/messages/count_tokens", {
      model: "m",
      messages: [{ role: "user", content: "12345678" }],
    });
    expect(await res.json()).toEqual({ input_tokens: 2 });
  });
});

describe("emulator: the strict fault (an upstream older than its clients)", () => {
  const strict = { "x-emulator-fault": "strict=1" };
  it.each([
    [
      "a context-management beta",
      { "anthropic-beta": "claude-code-20250219,context-management-2025-06-27" },
      {},
    ],
    ["a prompt-caching-scope beta", { "anthropic-beta": "prompt-caching-scope-2026-01-05" }, {}],
    ["context_management", {}, { context_management: { edits: [] } }],
    [
      "cache_control.scope deep in a tool result",
      {},
      {
        messages: [
          {
            role: "user",
            content: [
              {
                type: "tool_result",
                tool_use_id: "t",
                content: [{ type: "text", text: "r", cache_control: { type: "ephemeral", scope: "global" } }],
              },
            ],
          },
        ],
      },
    ],
  ])("rejects %s with a 400, on messages and count_tokens", async (_n, headers, extra) => {
    const res = await anthropic(extra, { ...strict, ...headers });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const count = await post(
      "/anthropic/v1/messages/count_tokens",
      { model: "m", messages: [{ role: "user", content: "x" }], ...extra },
      { ...strict, ...headers },
    );
    expect(count.status).toBe(400);
    expect((await anthropic(extra, headers)).status).toBe(200);
  });

  it("accepts older betas and cache_control without scope", async () => {
    const res = await anthropic(
      { system: [{ type: "text", text: "s", cache_control: { type: "ephemeral", ttl: "1h" } }] },
      { ...strict, "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    );
    expect(res.status).toBe(200);
  });
});

describe("emulator: embeddings and Unity Catalog", () => {
  it("returns deterministic float vectors", async () => {
    const one = (await (
      await post("/mlflow/v1/embeddings", { input: ["a", "b"], dimensions: 4 })
    ).json()) as {
      data: { index: number; embedding: number[] }[];
      usage: Json;
    };
    expect(one.data.map((d) => d.index)).toEqual([0, 1]);
    expect(one.data[0]!.embedding).toHaveLength(4);
    const again = (await (
      await post("/mlflow/v1/embeddings", { input: "a", encoding_format: "base64" })
    ).json()) as {
      data: { embedding: number[] }[];
    };
    expect(again.data[0]!.embedding).toHaveLength(8);
    expect(again.data[0]!.embedding.every((x) => typeof x === "number")).toBe(true);
  });

  it("pages models, including an empty page that carries next_page_token", async () => {
    const pages: { registered_models: { full_name: string }[]; next_page_token?: string }[] = [];
    let token: string | undefined;
    do {
      const q = token ? `?page_token=${encodeURIComponent(token)}` : "";
      const res = await fetch(`${emu.url}/api/2.1/unity-catalog/models${q}`, {
        headers: { authorization: `Bearer ${PAT}` },
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as (typeof pages)[number];
      pages.push(page);
      token = page.next_page_token;
    } while (token && pages.length < 20);
    expect(pages.map((p) => p.registered_models.length)).toEqual([3, 0, 3, 2]);
    expect(pages[1]!.next_page_token).toBeTruthy();
    const names = pages.flatMap((p) => p.registered_models.map((m) => m.full_name));
    expect(new Set(names).size).toBe(8);
    expect(names.every((n) => n.startsWith("system.ai."))).toBe(true);
  });
});

describe("emulator: waiting for a request", () => {
  const wait = (value: string, until: string) =>
    fetch(`${emu.url}/__emulator/wait?header=x-trace&value=${value}&until=${until}`);

  it("answers once the request arrives, and once its client has gone away", async () => {
    const marker = crypto.randomUUID();
    const received = wait(marker, "received");
    const closed = wait(marker, "closed");
    const controller = new AbortController();
    const pending = chat({}, { "x-trace": marker, "x-emulator-fault": "hang=1" }, controller.signal);
    expect((await received).status).toBe(200);
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    // Still hanging: the request is there, its client is not gone yet.
    expect((await wait(marker, "received")).status).toBe(200);
    expect(isClosed).toBe(false);
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await closed).status).toBe(200);
    // Already closed: answered at once.
    expect((await wait(marker, "closed")).status).toBe(200);
  });

  it("refuses a wait it cannot understand", async () => {
    expect((await fetch(`${emu.url}/__emulator/wait?header=x-trace`)).status).toBe(400);
    expect((await wait("x", "forever")).status).toBe(400);
  });
});

describe("emulator: faults", () => {
  it("status=429 answers rate_limit_error with retry-after", async () => {
    const res = await chat({}, { "x-emulator-fault": "status=429;retry_after=7" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toMatchObject({ error: { type: "rate_limit_error" } });
    const res2 = await anthropic({}, { "x-emulator-fault": "status=429" });
    expect(res2.headers.get("retry-after")).toBe("1");
    expect(await res2.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  });

  it("queued faults apply FIFO to the next model requests", async () => {
    const q = await fetch(`${emu.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify(["status=500", { status: 503 }]),
    });
    expect(await q.json()).toEqual({ queued: 2, pending: 2 });
    expect((await chat()).status).toBe(500);
    expect((await anthropic()).status).toBe(503);
    expect((await chat()).status).toBe(200);
  });

  it("rejects an unknown fault key", async () => {
    const res = await chat({}, { "x-emulator-fault": "stauts=500" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/stauts/);
  });

  it("delay_ms waits before the headers", async () => {
    const t0 = performance.now();
    await chat({}, { "x-emulator-fault": "delay_ms=150" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("cut_after makes the client's read fail after some frames", async () => {
    const res = await chat({ stream: true }, { "x-emulator-fault": "cut_after=2" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = "";
    const read = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
      }
    };
    await expect(read()).rejects.toThrow();
    expect(received.split("\n\n").filter((f) => f !== "")).toHaveLength(2);
  });

  it("error_after ends the stream with an in-band error", async () => {
    const events = await anthropicEvents(
      await anthropic({ stream: true }, { "x-emulator-fault": "error_after=3" }),
    );
    expect(events.map((e) => e.type)).toEqual(["message_start", "ping", "content_block_start", "error"]);
  });

  it("echo_auth repeats the Authorization header in error bodies (JSON or text), padded and encoded as asked", async () => {
    const auth = `Bearer ${PAT}`;
    const json = await chat({}, { "x-emulator-fault": "status=400;echo_auth=1;error_pad=300" });
    const message = ((await json.json()) as { error: { message: string } }).error.message;
    expect(message.indexOf(auth)).toBe(300);
    const text = await anthropic({}, { "x-emulator-fault": "status=500;echo_auth=1;error_body=text" });
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toBe(`emulator: injected fault (status 500) for credentials '${auth}'`);
    for (const [form, value] of [
      ["url", encodeURIComponent(auth)],
      ["base64", Buffer.from(auth).toString("base64")],
      ["base64url", Buffer.from(auth).toString("base64url")],
    ]) {
      const res = await chat({}, { "x-emulator-fault": `status=403;echo_auth=1;echo_form=${form}` });
      expect(await res.text()).toContain(value);
    }
    expect((await chat({}, { "x-emulator-fault": "echo_form=rot13" })).status).toBe(400);
  });

  it("echo_headers puts the echoed value in retry-after, retry-after-ms and x-emulator-echo", async () => {
    const auth = `Bearer ${PAT}`;
    const err = await chat({}, { "x-emulator-fault": "status=429;echo_auth=1;echo_headers=1" });
    expect(err.headers.get("retry-after")).toBe(auth);
    expect(err.headers.get("retry-after-ms")).toBe(auth);
    const ok = await chat({}, { "x-emulator-fault": "echo_auth=1;echo_headers=1" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-emulator-echo")).toBe(auth);
  });

  it("echo_auth with error_after repeats it in the in-band error; split_echo writes that frame in two", async () => {
    const auth = `Bearer ${PAT}`;
    const res = await chat(
      { stream: true },
      { "x-emulator-fault": "error_after=2;echo_auth=1;split_echo=1;chunk_delay_ms=30" },
    );
    const reader = res.body!.getReader();
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(new TextDecoder().decode(value));
    }
    const whole = chunks.join("");
    expect(whole).toContain(auth);
    // The frame with the echo arrived in two reads, cut inside the echoed value.
    expect(chunks.some((c) => c.includes(auth))).toBe(false);
    const events = await anthropicEvents(
      await anthropic({ stream: true }, { "x-emulator-fault": "error_after=3;echo_auth=1" }),
    );
    expect(JSON.stringify(events.at(-1))).toContain(auth);
  });

  it("chunks and chunk_bytes size the stream; no_usage drops usage", async () => {
    const res = await chat(
      { stream: true, stream_options: { include_usage: true } },
      { "x-emulator-fault": "chunks=20;chunk_bytes=100;no_usage=1" },
    );
    const { chunks } = await openaiFrames(res);
    const texts = chunks
      .map((c) => (c.choices as { delta: { content?: string } }[])[0]?.delta.content)
      .filter((t): t is string => typeof t === "string" && t !== "");
    expect(texts).toHaveLength(20);
    for (const t of texts) expect(t).toHaveLength(100);
    for (const c of chunks) expect(c.usage ?? undefined).toBeUndefined();
    const body = (await (await chat({}, { "x-emulator-fault": "no_usage=1" })).json()) as Json;
    expect("usage" in body).toBe(false);
  });

  it("hang never answers, and the request ends when the client goes away", async () => {
    const controller = new AbortController();
    const hung = chat({}, { "x-emulator-fault": "hang=1" }, controller.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(await inFlight()).toBeGreaterThanOrEqual(1);
    controller.abort();
    await expect(hung).rejects.toThrow();
    await waitFor(async () => (await inFlight()) === 0);
  });

  it("whenClosed() resolves once the request with that header has been closed by its client", async () => {
    const trace = crypto.randomUUID();
    const controller = new AbortController();
    // Asked before the request exists: the answer waits for it to come and go.
    const closed = emu.whenClosed((r) => r.headers["x-trace"] === trace);
    let answered = false;
    void closed.then(() => (answered = true));
    const stream = await chat(
      { stream: true },
      { "x-trace": trace, "x-emulator-fault": "chunks=100;chunk_delay_ms=50" },
      controller.signal,
    );
    const reader = stream.body?.getReader();
    await reader?.read();
    expect(answered).toBe(false);
    controller.abort();
    expect(await closed).toMatchObject({ clientClosed: true, path: "/mlflow/v1/chat/completions" });
  });

  it("stops a huge stream when the client disconnects, and respects backpressure", async () => {
    const body = JSON.stringify({ stream: true, messages: [{ role: "user", content: "big" }] });
    const rssBefore = process.memoryUsage().rss;
    const req = httpRequest(`${emu.url}/mlflow/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${PAT}`,
        "content-type": "application/json",
        "x-emulator-fault": "chunks=200000;chunk_bytes=1000",
      },
    });
    const res = await new Promise<import("node:http").IncomingMessage>((resolve) => {
      req.on("response", resolve);
      req.end(body);
    });
    expect(res.statusCode).toBe(200);
    // Not reading: a writer that ignored backpressure would buffer all 200 MB in this process.
    await new Promise((r) => setTimeout(r, 1000));
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024);
    res.destroy();
    await waitFor(async () => (await inFlight()) === 0);
  });
});

async function inFlight(): Promise<number> {
  const health = (await (await fetch(`${emu.url}/__emulator/health`)).json()) as { inFlight: number };
  return health.inFlight;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in time");
}
