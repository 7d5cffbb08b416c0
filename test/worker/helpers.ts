import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import worker from "../../src/index";

export const ADMIN_TOKEN = "test-admin-token";
/** The token the worker project gives the gateway and the emulator; its `/`, `+` and `=` make its URL-encoded form differ. */
export const PAT = "dapi-test/pat+0123456789abcdef=";
export const emulatorUrl = () => inject("emulatorUrl");

export type Json = Record<string, unknown>;

/** An admin call; a string body is sent as it is (for malformed or oversized bodies), anything else as JSON. */
export async function admin(method: string, path: string, body?: unknown) {
  const res = await SELF.fetch(`http://gateway.test/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
  });
  return { res, status: res.status, json: (await res.json()) as Json };
}

/**
 * Calls the Worker's handler directly with an execution context of the test's own, so a test can wait
 * for exactly the work the Worker left running after its response (usage recording, call logs, refunds):
 * read the body first (a stream records when it ends), then `await settled()`.
 */
export async function callWorker(
  path: string,
  init: RequestInit,
): Promise<{ res: Response; settled: () => Promise<void> }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://gateway.test${path}`, init), env, ctx);
  return { res, settled: () => waitOnExecutionContext(ctx) };
}

let counter = 0;
/** A provider name unique to the test, so tests never see each other's config. */
export function uniqueName(prefix = "p"): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

export async function putProvider(name: string, overrides: Json = {}) {
  const r = await admin("PUT", `/providers/${name}`, {
    format: "openai",
    baseUrl: `${emulatorUrl()}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    ...overrides,
  });
  if (r.status !== 200) throw new Error(`provider setup failed: ${JSON.stringify(r.json)}`);
  return r.json;
}

export async function createKey(body: Json = {}): Promise<{ id: string; key: string }> {
  const r = await admin("POST", "/keys", { name: "test", ...body });
  if (r.status !== 201) throw new Error(`key setup failed: ${JSON.stringify(r.json)}`);
  return { id: String(r.json.id), key: String(r.json.key) };
}

/** A provider and a key that may use it. */
export async function setup(overrides: Json = {}) {
  const provider = uniqueName();
  await putProvider(provider, overrides);
  const { id, key } = await createKey();
  return { provider, key, id, model: `${provider}/databricks-claude-sonnet-4` };
}

export function chat(
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
  path = "/v1/chat/completions",
) {
  return SELF.fetch(`http://gateway.test${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
  });
}

export const userMessage = (text = "hello") => [{ role: "user", content: text }];

/** What the emulator received, newest last. */
export async function emulatorRequests(): Promise<
  Array<{ method: string; path: string; headers: Record<string, string>; body: Json | null }>
> {
  const res = await fetch(`${emulatorUrl()}/__emulator/requests`);
  return (await res.json()) as Array<{
    method: string;
    path: string;
    headers: Record<string, string>;
    body: Json | null;
  }>;
}

/**
 * Resolves once the emulator has a request whose header `header` is `value` (`received`), or once that
 * request's client, the gateway, has gone away (`closed`): the emulator answers when it happens.
 */
export async function emulatorReached(header: string, value: string, until: "received" | "closed") {
  const query = new URLSearchParams({ header, value, until });
  const res = await fetch(`${emulatorUrl()}/__emulator/wait?${query}`);
  if (res.status !== 200) throw new Error(`emulator wait failed: ${await res.text()}`);
}

/** A call through `callWorker` read to its end, with the work it left running after its response done. */
export async function settledCall(path: string, init: RequestInit): Promise<{ res: Response; text: string }> {
  const { res, settled } = await callWorker(path, init);
  const text = await res.text();
  await settled();
  return { res, text };
}

/** `chat()` through `settledCall`: its usage, refunds and call log are recorded when this resolves. */
export function chatSettled(
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
  path = "/v1/chat/completions",
) {
  return settledCall(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** `data:` payloads of an SSE body. */
export function sseData(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((frame) =>
      frame
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n"),
    )
    .filter((d) => d !== "");
}

export function messages(
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
  path = "/v1/messages",
) {
  return SELF.fetch(`http://gateway.test${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      ...(key ? { "x-api-key": key } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Anthropic SSE frames as `{event, data}`. */
export function sseEvents(text: string): Array<{ event: string | null; data: Json }> {
  return text
    .split(/\n\n/)
    .filter((f) => f.trim() !== "")
    .map((frame) => {
      const lines = frame.split("\n");
      const event =
        lines
          .find((l) => l.startsWith("event:"))
          ?.slice(6)
          .trim() ?? null;
      const data = lines
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      return { event, data: JSON.parse(data) as Json };
    });
}

/** Overrides for a provider speaking Anthropic's format (the emulator's /anthropic endpoint). */
export const anthropicFormat = (): Json => ({ format: "anthropic", baseUrl: `${emulatorUrl()}/anthropic` });
