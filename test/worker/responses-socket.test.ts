import { describe, expect, it } from "vitest";
import { checkResponsesStream } from "../unit/responses/helpers";
import {
  PAT,
  anthropicFormat,
  createKey,
  emulatorReached,
  emulatorRequests,
  putProvider,
  setup,
  uniqueName,
} from "./helpers";
import { asSse, isTerminal, socketOf, upgrade, type TestSocket } from "./socket-helpers";

/**
 * The Responses API over a WebSocket (Codex's default transport): the upgrade's auth, turns streamed as
 * JSON text messages, several turns on one socket with previous_response_id, errors before and after the
 * first byte, and a client that hangs up mid-response.
 */

const weather = {
  type: "function",
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

const FORMATS = [
  ["openai", () => ({}), "/mlflow/v1/chat/completions"],
  ["anthropic", anthropicFormat, "/anthropic/v1/messages"],
] as const;

async function upstreamWith(marker: string) {
  return (await emulatorRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
}

/** Sends one response.create and reads its messages up to the terminal one. */
async function turn(s: TestSocket, message: Record<string, unknown>) {
  const from = s.messages.length;
  s.send({ type: "response.create", ...message });
  const messages = await s.until(isTerminal, from);
  return { messages, checked: checkResponsesStream(asSse(messages)) };
}

const responseIdOf = (messages: Record<string, unknown>[]) =>
  String((messages.at(-1)?.response as { id: string }).id);

describe.each(FORMATS)("Responses over WebSocket to an %s provider", (_format, overrides, path) => {
  it("streams a turn as one JSON text message per event, through the same translation", async () => {
    const { key, provider } = await setup(overrides());
    const res = await upgrade(key);
    expect(res.status).toBe(101);
    const s = socketOf(res);
    const marker = uniqueName("ws");
    const { checked } = await turn(s, { model: `${provider}/m`, input: marker });
    expect(checked.violations).toEqual([]);
    expect(checked.terminal?.type).toBe("response.completed");
    expect(Object.values(checked.text).join("")).toBe(`Hello from the emulator. You said: ${marker}`);
    const seen = await upstreamWith(marker);
    expect(seen.map((r) => r.path)).toEqual([path]);
    // The upgrade's credentials were used, the virtual key never went upstream.
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${PAT}`);
    expect(JSON.stringify(seen[0]?.headers)).not.toContain(key);
    s.ws.close(1000);
  });

  it("a tool turn, then its output sent with previous_response_id: the upstream gets the whole history", async () => {
    const { key, provider } = await setup(overrides());
    const s = socketOf(await upgrade(key));
    const marker = uniqueName("tool");
    const first = await turn(s, { model: `${provider}/m`, input: marker, tools: [weather] });
    expect(first.checked.violations).toEqual([]);
    const call = first.checked.items[0];
    expect(call).toMatchObject({ type: "function_call", name: "get_weather" });

    // As Codex does on a reused socket: only what is new, after the response it continues.
    const second = await turn(s, {
      model: `${provider}/m`,
      tools: [weather],
      previous_response_id: responseIdOf(first.messages),
      input: [{ type: "function_call_output", call_id: call?.call_id, output: "sunny" }],
    });
    expect(second.checked.violations).toEqual([]);
    expect(Object.values(second.checked.text).join("")).toBe(
      "Hello from the emulator. The tool returned: sunny",
    );
    const seen = await upstreamWith(marker);
    expect(seen).toHaveLength(2);
    const replayed = JSON.stringify(seen[1]?.body);
    expect(replayed).toContain(marker);
    expect(replayed).toContain("sunny");
    expect(replayed).toContain(String(call?.call_id).replace(/[^A-Za-z0-9_-]/g, "_"));
    s.ws.close(1000);
  });
});

describe("Responses over WebSocket", () => {
  it("two turns on one socket, the first a warm-up (generate: false) that never goes upstream", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const s = socketOf(await upgrade(key));
    const marker = uniqueName("warm");
    const system = { type: "message", role: "developer", content: [{ type: "input_text", text: marker }] };
    const warm = await turn(s, { model: `${provider}/m`, input: [system], generate: false });
    expect(warm.checked.violations).toEqual([]);
    expect(warm.checked.types).toEqual(["response.created", "response.in_progress", "response.completed"]);
    expect((warm.messages.at(-1)?.response as { output: unknown[] }).output).toEqual([]);
    expect(await upstreamWith(marker)).toEqual([]);

    const next = await turn(s, {
      model: `${provider}/m`,
      previous_response_id: responseIdOf(warm.messages),
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hello there" }] }],
    });
    expect(next.checked.violations).toEqual([]);
    expect(Object.values(next.checked.text).join("")).toBe("Hello from the emulator. You said: hello there");
    const seen = await upstreamWith(marker);
    expect(seen).toHaveLength(1);
    // The warm-up's developer message leads the continued request.
    expect((seen[0]?.body as { system: { text: string }[] }).system).toEqual([
      { type: "text", text: marker },
    ]);

    // A third turn sent whole (no previous_response_id) works on the same socket too.
    const third = await turn(s, { model: `${provider}/m`, input: `${marker} again` });
    expect(Object.values(third.checked.text).join("")).toBe(
      `Hello from the emulator. You said: ${marker} again`,
    );
    s.ws.close(1000);
  });

  it("also under /openai/v1; the socket answers a message it cannot read with an error and stays open", async () => {
    const { key, provider } = await setup();
    const s = socketOf(await upgrade(key, {}, "/openai/v1/responses"));
    s.send("not json");
    s.send({ type: "session.update" });
    const errors = await s.until(
      (m) => m.type === "error" && m.status === 400 && (m.error as { param?: string }).param === "type",
    );
    expect(errors[0]).toMatchObject({ type: "error", status: 400 });
    const { checked } = await turn(s, { model: `${provider}/m`, input: "still here" });
    expect(checked.terminal?.type).toBe("response.completed");
    s.ws.close(1000);
  });

  it("previous_response_id that is not this socket's last response → a 400 error message naming it", async () => {
    const { key, provider } = await setup();
    const s = socketOf(await upgrade(key));
    s.send({
      type: "response.create",
      model: `${provider}/m`,
      previous_response_id: "resp_elsewhere",
      input: "x",
    });
    const [error] = await s.until(isTerminal);
    expect(error).toMatchObject({
      type: "error",
      status: 400,
      error: { code: "previous_response_not_found", param: "previous_response_id" },
    });
    s.ws.close(1000);
    expect(await s.closed).toBe(1000);
  });

  it("a bad key is refused on the upgrade itself, before any socket exists", async () => {
    const { provider } = await setup();
    for (const key of [null, "bl-not-a-key"]) {
      const res = await upgrade(key);
      expect(res.status).toBe(401);
      expect(res.webSocket).toBeNull();
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("authentication_error");
    }
    const disabled = await createKey();
    const { admin } = await import("./helpers");
    await admin("PATCH", `/keys/${disabled.id}`, { disabled: true });
    const refused = await upgrade(disabled.key);
    expect(refused.status).toBe(401);
    expect(refused.webSocket).toBeNull();
    await refused.arrayBuffer();
    // A GET without the upgrade is not the API either.
    const plain = await upgrade(null, { upgrade: "h2c" });
    expect(plain.status).toBe(401);
    void provider;
  });

  it("a GET without Upgrade: websocket answers 426", async () => {
    const { key } = await setup();
    const res = await upgrade(key, { upgrade: "" });
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/WebSocket upgrade/);
  });

  it("an upstream failing before its first byte → the HTTP status as an error message (429 keeps retry-after)", async () => {
    const { key, provider } = await setup();
    const s = socketOf(await upgrade(key, { "x-emulator-fault": "status=429;retry_after=7" }));
    s.send({ type: "response.create", model: `${provider}/m`, input: "x" });
    const [error] = await s.until(isTerminal);
    expect(error).toMatchObject({ type: "error", status: 429, error: { type: "rate_limit_error" } });
    expect((error?.headers as Record<string, string>)["retry-after"]).toBe("7");
    s.ws.close(1000);
  });

  it("an upstream failing mid-response → response.failed and the error event, as over HTTP", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const s = socketOf(await upgrade(key, { "x-emulator-fault": "error_after=4" }));
    s.send({ type: "response.create", model: `${provider}/m`, input: "x" });
    const messages = await s.until((m) => m.type === "error");
    const checked = checkResponsesStream(asSse(messages));
    expect(checked.violations).toEqual([]);
    expect(checked.types.slice(-2)).toEqual(["response.failed", "error"]);
    expect(checked.types).not.toContain("response.completed");
    s.ws.close(1000);
  });

  it("a client that closes the socket mid-response cancels the upstream call", async () => {
    const { key, provider } = await setup();
    const trace = crypto.randomUUID();
    // 200 chunks 50 ms apart: ten seconds of stream unless someone hangs up.
    const s = socketOf(
      await upgrade(key, { "x-trace": trace, "x-emulator-fault": "chunks=200;chunk_delay_ms=50" }),
    );
    s.send({ type: "response.create", model: `${provider}/m`, input: "a long answer please" });
    await s.until((m) => m.type === "response.output_text.delta");
    s.ws.close(1000, "bye");
    // Answers once the emulator has seen its client (the gateway) hang up.
    await emulatorReached("x-trace", trace, "closed");
    const upstream = (await emulatorRequests()).find((r) => r.headers["x-trace"] === trace);
    expect(upstream?.path).toBe("/mlflow/v1/chat/completions");
  });

  it("every response.create is a call of its own against the key's limits", async () => {
    const provider = uniqueName();
    await putProvider(provider);
    const { key } = await createKey({ limits: { rpm: 2 } });
    const s = socketOf(await upgrade(key));
    for (let i = 0; i < 2; i++) {
      const { checked } = await turn(s, { model: `${provider}/m`, input: `call ${i}` });
      expect(checked.terminal?.type).toBe("response.completed");
    }
    s.send({ type: "response.create", model: `${provider}/m`, input: "one too many" });
    const [refused] = await s.until(isTerminal, s.messages.length);
    expect(refused).toMatchObject({ type: "error", status: 429, error: { type: "rate_limit_error" } });
    expect(String((refused?.error as { message: string }).message)).toMatch(/2 requests per minute/);
    s.ws.close(1000);
    // A new socket for a key over its limit is refused on the upgrade.
    const again = await upgrade(key);
    expect(again.status).toBe(429);
    expect(again.webSocket).toBeNull();
    expect(again.headers.get("retry-after")).toMatch(/^\d+$/);
    await again.arrayBuffer();
  });
});
