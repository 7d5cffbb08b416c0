import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PAT, anthropicFormat, callWorker, createKey, putProvider, uniqueName, type Json } from "./helpers";

/**
 * The upstream credential never reaches a client, a log or an error message, whatever the upstream sends
 * back: an upstream that echoes its Authorization header (emulator fault echo_auth) as sent, URL-encoded
 * or base64-encoded, in error bodies of every status (JSON and plain text, long ones with the token across
 * a cut), in mid-stream error events (also split across two network reads) and in headers, through every
 * route and both directions of translation. The Worker runs in this isolate, so its console is ours to
 * watch; each call's after-response work (the call log) is waited for through its execution context.
 */

/** Every 12-character window of the token: finding any of them anywhere is a leak. */
const WINDOWS = Array.from({ length: PAT.length - 11 }, (_, i) => PAT.slice(i, i + 12));

function base64Decodings(text: string): string[] {
  const out: string[] = [];
  for (const run of text.replace(/\\\//g, "/").match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    const std = run.replace(/-/g, "+").replace(/_/g, "/");
    for (let offset = 0; offset < 4; offset++) {
      const part = std.slice(offset);
      try {
        out.push(atob(part.slice(0, part.length - (part.length % 4))));
      } catch {
        // Not base64 at this offset.
      }
    }
  }
  return out;
}

const urlDecoded = (text: string) =>
  text.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });

/** Any part of the token in `text`, as sent, URL-decoded, JSON-unescaped or base64-decoded. */
function leaks(text: string): string[] {
  const views = [text, urlDecoded(text), text.replace(/\\\//g, "/"), ...base64Decodings(text)];
  return WINDOWS.filter((w) => views.some((v) => v.includes(w)));
}

const logged: string[] = [];
beforeEach(() => {
  logged.length = 0;
  for (const level of ["log", "error", "warn", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

type ProviderFormat = "openai" | "anthropic";
type Route = {
  name: string;
  path: string;
  provider: ProviderFormat;
  /** The format errors come back in; Responses streams fail with response.failed. */
  client: "openai" | "anthropic" | "responses";
  body: (model: string, stream: boolean) => Json;
  streams: boolean;
};

const chatBody = (model: string, stream: boolean) => ({
  model,
  stream,
  messages: [{ role: "user", content: "hi" }],
});
const messagesBody = (model: string, stream: boolean) => ({ ...chatBody(model, stream), max_tokens: 50 });

const ROUTES: Route[] = [
  {
    name: "chat → openai (passthrough)",
    path: "/v1/chat/completions",
    provider: "openai",
    client: "openai",
    body: chatBody,
    streams: true,
  },
  {
    name: "chat → anthropic (translated)",
    path: "/v1/chat/completions",
    provider: "anthropic",
    client: "openai",
    body: chatBody,
    streams: true,
  },
  {
    name: "messages → anthropic (passthrough)",
    path: "/v1/messages",
    provider: "anthropic",
    client: "anthropic",
    body: messagesBody,
    streams: true,
  },
  {
    name: "messages → openai (translated)",
    path: "/v1/messages",
    provider: "openai",
    client: "anthropic",
    body: messagesBody,
    streams: true,
  },
  {
    name: "count_tokens → anthropic (forwarded)",
    path: "/v1/messages/count_tokens",
    provider: "anthropic",
    client: "anthropic",
    body: (model) => ({ model, messages: [{ role: "user", content: "hi" }] }),
    streams: false,
  },
  {
    name: "responses → openai (translated)",
    path: "/v1/responses",
    provider: "openai",
    client: "responses",
    body: (model, stream) => ({ model, stream, input: "hi" }),
    streams: true,
  },
  {
    name: "responses → anthropic (translated)",
    path: "/v1/responses",
    provider: "anthropic",
    client: "responses",
    body: (model, stream) => ({ model, stream, input: "hi" }),
    streams: true,
  },
  {
    name: "completions → openai (passthrough)",
    path: "/v1/completions",
    provider: "openai",
    client: "openai",
    body: (model, stream) => ({ model, stream, prompt: "hi" }),
    streams: true,
  },
  {
    name: "completions → anthropic (translated)",
    path: "/v1/completions",
    provider: "anthropic",
    client: "openai",
    body: (model, stream) => ({ model, stream, prompt: "hi" }),
    streams: true,
  },
  {
    name: "embeddings → openai (passthrough)",
    path: "/v1/embeddings",
    provider: "openai",
    client: "openai",
    body: (model) => ({ model, input: "hi" }),
    streams: false,
  },
];

const models: Record<ProviderFormat, string> = { openai: "", anthropic: "" };
let key = "";
beforeAll(async () => {
  const openai = uniqueName();
  const anthropic = uniqueName();
  await putProvider(openai);
  await putProvider(anthropic, anthropicFormat());
  models.openai = `${openai}/databricks-claude-sonnet-4`;
  models.anthropic = `${anthropic}/databricks-claude-sonnet-4`;
  key = (await createKey()).key;
});

/** One call with a fault; the whole answer (status, headers, body) and the logs it caused. */
async function call(route: Route, fault: string, stream = false) {
  const { res, settled } = await callWorker(route.path, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-emulator-fault": fault,
    },
    body: JSON.stringify(route.body(models[route.provider], stream)),
  });
  const text = await res.text();
  await settled();
  const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  return { res, text, headers };
}

function expectNoLeak(answer: { text: string; headers: string }) {
  expect(leaks(answer.text)).toEqual([]);
  expect(leaks(answer.headers)).toEqual([]);
  expect(logged.flatMap(leaks)).toEqual([]);
}

/** The error body of the route's format, with the request id: the client can read what went wrong. */
function expectErrorShape(route: Route, answer: { res: Response; text: string }): string {
  expect(answer.res.headers.get("x-request-id")).toBeTruthy();
  // Every upstream failure is logged (with the upstream's words, redacted): the log check has lines to read.
  expect(logged.length).toBeGreaterThan(0);
  const body = JSON.parse(answer.text) as Json;
  if (route.client === "anthropic") {
    expect(body).toMatchObject({ type: "error", error: { type: expect.any(String) } });
    return String((body.error as Json).message);
  }
  expect(body).toMatchObject({ error: { type: expect.any(String), code: expect.any(String) } });
  return String((body.error as Json).message);
}

/** Upstream statuses whose words the gateway passes on (401/403 say only that the credentials failed). */
const relaysDetail = (status: number) => status !== 401 && status !== 403;

describe("error answers echoing the token", () => {
  const statuses = [400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 529];
  const forms = ["raw", "url", "base64", "base64url"] as const;
  const cases = statuses.flatMap((status, i) =>
    (["json", "text"] as const).map((body, j) => ({ status, body, form: forms[(i + j) % forms.length] })),
  );

  it.each(cases)("upstream $status ($body, $form) through chat → openai", async ({ status, body, form }) => {
    const route = ROUTES[0]!;
    const answer = await call(route, `status=${status};echo_auth=1;error_body=${body};echo_form=${form}`);
    expect(answer.res.status).toBeGreaterThanOrEqual(400);
    const message = expectErrorShape(route, answer);
    expectNoLeak(answer);
    if (relaysDetail(status)) expect(message).toContain("[redacted]");
  });

  it.each(ROUTES.flatMap((route) => [400, 429, 500, 503].map((status) => ({ route, status }))))(
    "upstream $status through $route.name",
    async ({ route, status }) => {
      const form = (["raw", "url", "base64", "base64url"] as const)[status % 4];
      const answer = await call(route, `status=${status};echo_auth=1;echo_form=${form}`);
      expect(answer.res.status).toBe(status === 400 || status === 429 ? status : 502);
      expect(expectErrorShape(route, answer)).toContain("[redacted]");
      expectNoLeak(answer);
    },
  );

  it("a long message with the token across the 500-character cut, at every offset near it", async () => {
    for (const body of ["json", "text"]) {
      for (let pad = 470; pad <= 500; pad += 3) {
        const answer = await call(ROUTES[0]!, `status=400;echo_auth=1;error_body=${body};error_pad=${pad}`);
        expect(answer.res.status).toBe(400);
        expectErrorShape(ROUTES[0]!, answer);
        expectNoLeak(answer);
      }
    }
  });

  it("a body larger than the gateway reads, with the token across where it stops", async () => {
    for (const pad of [16_330, 16_350, 16_360, 16_370]) {
      const answer = await call(ROUTES[3]!, `status=500;echo_auth=1;error_body=text;error_pad=${pad}`);
      expect(answer.res.status).toBe(502);
      expectErrorShape(ROUTES[3]!, answer);
      expectNoLeak(answer);
    }
  });
});

describe("headers echoing the token", () => {
  it("a 429 whose retry-after and retry-after-ms carry the token: dropped, not relayed", async () => {
    for (const route of [ROUTES[0]!, ROUTES[2]!]) {
      const answer = await call(route, "status=429;echo_auth=1;echo_headers=1");
      expect(answer.res.status).toBe(429);
      expect(answer.res.headers.get("retry-after")).toBeNull();
      expect(answer.res.headers.get("retry-after-ms")).toBeNull();
      expectNoLeak(answer);
    }
  });

  it("a 429 with a real wait: re-emitted as whole seconds and milliseconds", async () => {
    const answer = await call(ROUTES[1]!, "status=429;retry_after=7");
    expect(answer.res.headers.get("retry-after")).toBe("7");
    expect(answer.res.headers.get("retry-after-ms")).toBe("7000");
  });

  it.each(ROUTES)("a successful answer with upstream headers carrying the token: $name", async (route) => {
    for (const stream of route.streams ? [false, true] : [false]) {
      const answer = await call(route, "echo_auth=1;echo_headers=1", stream);
      expect(answer.res.status).toBe(200);
      expect(answer.res.headers.get("x-emulator-echo")).toBeNull();
      expectNoLeak(answer);
    }
  });
});

describe("mid-stream error events echoing the token", () => {
  const streamed = ROUTES.filter((r) => r.streams);
  const cases = streamed.flatMap((route) =>
    ["", ";split_echo=1", ";echo_form=base64", ";echo_form=url;split_echo=1"].map((extra) => ({
      route,
      extra,
    })),
  );

  it.each(cases)("$route.name, error_after=2$extra", async ({ route, extra }) => {
    const answer = await call(route, `error_after=2;echo_auth=1${extra}`, true);
    expect(answer.res.status).toBe(200);
    // The stream ends in the client's own in-band error, with the upstream's words minus the token.
    if (route.client === "anthropic") expect(answer.text).toMatch(/event: error\ndata: .*\[redacted\]/);
    else if (route.client === "responses")
      expect(answer.text).toMatch(/event: response\.failed\n.*\[redacted\]/);
    else expect(answer.text).toMatch(/data: \{"error":.*\[redacted\]/);
    expectNoLeak(answer);
  });
});

describe("successful calls", () => {
  it("log no credential and no virtual key", async () => {
    const answer = await call(ROUTES[0]!, "", true);
    expect(answer.res.status).toBe(200);
    expect(logged.some((l) => l.includes('"msg":"call"'))).toBe(true);
    expectNoLeak(answer);
    for (const line of logged) expect(line).not.toContain(key);
  });
});
