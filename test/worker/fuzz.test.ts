import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  anthropicFormat,
  callWorker,
  createKey,
  putProvider,
  uniqueName,
  type Json,
} from "./helpers";

/**
 * Generated requests over every public route (seeded, so a failure replays): valid bodies with fields
 * swapped for arbitrary JSON, absurd nesting, odd model strings (control characters, lone surrogates, huge
 * provider parts), bytes that are not UTF-8, upstream faults. Whatever comes in, the Worker answers: no
 * 5xx but an upstream failure mapped as such, every error well-formed JSON in the route's format, every
 * answer with x-request-id, every stream ending.
 */

const RUNS = 1000;
const CONCURRENCY = 16;

let key = "";
let providers: { openai: string; anthropic: string };
beforeAll(async () => {
  providers = { openai: uniqueName(), anthropic: uniqueName() };
  await putProvider(providers.openai);
  await putProvider(providers.anthropic, anthropicFormat());
  key = (await createKey()).key;
});

type Shape = "openai" | "anthropic";
type Case = {
  method: "POST" | "GET";
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
};

/** Nested arrays or objects `depth` levels deep, as text (JSON.stringify itself would overflow). */
const deepText = (depth: number, kind: "array" | "object") =>
  kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const weirdString = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)), maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", "/", "a/", "/b", "x\u0000y/m", "p\r\nx-evil: 1/m", "p/\ud800", "\udfff/m", "p/m\u0085"),
  fc.integer({ min: 300, max: 30_000 }).map((n) => `${"p".repeat(n)}/m`),
  fc.integer({ min: 300, max: 30_000 }).map((n) => `p/${"m".repeat(n)}`),
);

/** A model string: a real one of either provider, a route-like name, or something odd. */
const model = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom("openai", "anthropic").map((p) => `${p}/databricks-claude-sonnet-4`),
  },
  { weight: 1, arbitrary: fc.constantFrom("no-such-route", "nobody/m") },
  { weight: 2, arbitrary: weirdString },
);

const routes = [
  "/v1/chat/completions",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/responses",
  "/v1/completions",
  "/v1/embeddings",
  "/anthropic/v1/messages?beta=true",
  "/openai/v1/chat/completions",
] as const;

/** A plausible body for each route, so that mutations land on fields the gateway reads. */
function baseBody(path: string, m: string, stream: boolean): Json {
  if (path.includes("/messages")) {
    return { model: m, max_tokens: 20, stream, messages: [{ role: "user", content: "hi" }] };
  }
  if (path.includes("/responses")) return { model: m, stream, input: [{ role: "user", content: "hi" }] };
  if (path.includes("/completions") && !path.includes("chat")) return { model: m, stream, prompt: "hi" };
  if (path.includes("/embeddings")) return { model: m, input: ["hi"] };
  return { model: m, stream, messages: [{ role: "user", content: "hi" }] };
}

const fields = [
  "model",
  "messages",
  "max_tokens",
  "stream",
  "input",
  "prompt",
  "tools",
  "system",
  "stream_options",
  "tool_choice",
  "encoding_format",
];

const bodyFor = (path: string) =>
  fc.oneof(
    // A plausible body, maybe with some fields replaced by arbitrary JSON.
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          model,
          fc.boolean(),
          fc.array(fc.tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 4 })), { maxLength: 3 }),
        )
        .map(([m, stream, swaps]) => {
          const body = baseBody(
            path,
            m.replace(/^(openai|anthropic)\//, (_, p: "openai" | "anthropic") => `${providers[p]}/`),
            stream,
          );
          for (const [field, value] of swaps) body[field] = value;
          return JSON.stringify(body);
        }),
    },
    // Absurd nesting somewhere the gateway (or a translator) walks.
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          // Within the test's body limit (64 KiB): past the depth that used to overflow the stack (~5,000).
          fc.integer({ min: 100, max: 9_000 }),
          fc.constantFrom("array", "object") as fc.Arbitrary<"array" | "object">,
          fc.constantFrom("messages", "tools", "input", "prompt", "system", "extra", "top"),
          fc.constantFrom("openai", "anthropic") as fc.Arbitrary<"openai" | "anthropic">,
        )
        .map(([depth, kind, where, p]) => {
          const deep = deepText(depth, kind);
          if (where === "top") return deep;
          const text = JSON.stringify(baseBody(path, `${providers[p]}/m`, false));
          const inner =
            where === "messages"
              ? `[{"role":"user","content":[{"type":"text","text":"x","extra":${deep}}]}]`
              : deep;
          return `{"__placeholder__":0,${text.slice(1)}`.replace(
            '"__placeholder__":0',
            `"${where}":${inner}`,
          );
        }),
    },
    // Tool-call arguments nested too deep (a string the translators parse).
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 7_000 }).map((depth) =>
        JSON.stringify({
          model: `${providers.anthropic}/m`,
          messages: [
            { role: "user", content: "hi" },
            {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "c1", type: "function", function: { name: "f", arguments: deepText(depth, "object") } },
              ],
            },
            { role: "tool", tool_call_id: "c1", content: "ok" },
          ],
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
        maxLength: 200,
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  );

const fault = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "status=400",
      "status=429;retry_after=2",
      "status=500",
      "status=503;error_body=text",
      "error_after=1",
      "cut_after=2",
      "status=400;echo_auth=1;echo_form=base64",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const postCase: fc.Arbitrary<Case> = fc
  .constantFrom(...routes)
  .chain((path) =>
    fc.record({
      path: fc.constant(path),
      body: bodyFor(path),
      fault,
      bearer: fc.boolean(),
      anthropicVersion: fc.boolean(),
      contentType: fc.constantFrom("application/json", "text/plain", ""),
    }),
  )
  .map(({ path, body, fault: f, bearer, anthropicVersion, contentType }) => {
    const headers: Record<string, string> = bearer
      ? { authorization: `Bearer ${key}` }
      : { "x-api-key": key };
    if (anthropicVersion) headers["anthropic-version"] = "2023-06-01";
    if (contentType) headers["content-type"] = contentType;
    if (f !== undefined) headers["x-emulator-fault"] = f.replace(/[^\x20-\x7e]/g, "");
    return { method: "POST" as const, path, headers, body };
  });

const getCase: fc.Arbitrary<Case> = fc
  .tuple(
    fc.constantFrom("/v1/models", "/anthropic/v1/models", "/v1/models/"),
    fc.string({ maxLength: 60 }),
    fc.boolean(),
  )
  .map(([path, id, anthropicVersion]) => ({
    method: "GET" as const,
    path: path.endsWith("/") ? path + encodeURIComponent(id) : path,
    headers: {
      authorization: `Bearer ${key}`,
      ...(anthropicVersion ? { "anthropic-version": "2023-06-01" } : {}),
    },
    body: undefined,
  }));

const anyCase = fc.oneof({ weight: 12, arbitrary: postCase }, { weight: 1, arbitrary: getCase });

function shapeOf(c: Case): Shape {
  const path = c.path.split("?")[0] ?? "";
  if (path.startsWith("/anthropic/") || /^\/v1\/messages(\/|$)/.test(path)) return "anthropic";
  if (path.startsWith("/v1/models") && "anthropic-version" in c.headers) return "anthropic";
  return "openai";
}

/** Error codes whose 5xx is an upstream failure mapped by the gateway, not the gateway failing. */
const UPSTREAM_5XX = new Set(["upstream_error", "overloaded", "timeout", "upstream_auth"]);

/** Checks one answer; returns what is wrong with it, or null. */
async function check(c: Case): Promise<string | null> {
  const { res, settled } = await callWorker(c.path, { method: c.method, headers: c.headers, body: c.body });
  const text = await res.text();
  await settled();
  if (!res.headers.get("x-request-id")) return `no x-request-id (status ${res.status})`;
  if (res.status < 400) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  const shape = shapeOf(c);
  const err = (body as { error?: { type?: unknown; message?: unknown; code?: unknown } }).error;
  if (typeof err?.message !== "string" || typeof err.type !== "string") {
    return `status ${res.status}: not an error body: ${text.slice(0, 200)}`;
  }
  if (shape === "anthropic" && (body as { type?: unknown }).type !== "error") {
    return `status ${res.status}: not Anthropic-shaped: ${text.slice(0, 200)}`;
  }
  if (shape === "openai" && !("code" in err))
    return `status ${res.status}: not OpenAI-shaped: ${text.slice(0, 200)}`;
  if (res.status >= 500) {
    // The Anthropic shape has no code; its type says whether the upstream failed.
    const upstream =
      shape === "openai"
        ? UPSTREAM_5XX.has(String(err.code))
        : ["api_error", "overloaded_error"].includes(err.type);
    if (!upstream || !c.headers["x-emulator-fault"])
      return `status ${res.status} without an upstream failure: ${text.slice(0, 200)}`;
  }
  return null;
}

describe("fuzz: generated requests over every public route", () => {
  it(`${RUNS} seeded requests: no gateway 5xx, every error well-formed, every answer with x-request-id`, async () => {
    const cases = fc.sample(anyCase, { seed: 20_261_128, numRuns: RUNS });
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      const batch = cases.slice(i, i + CONCURRENCY);
      const results = await Promise.all(batch.map(check));
      results.forEach((problem, j) => {
        const c = batch[j];
        if (problem && c) {
          const body = typeof c.body === "string" ? c.body.slice(0, 300) : String(c.body?.length ?? "none");
          failures.push(
            `${c.method} ${c.path} ${JSON.stringify(c.headers["x-emulator-fault"] ?? "")} ${body}\n  → ${problem}`,
          );
        }
      });
    }
    expect({ failed: failures.length, first: failures.slice(0, 10) }).toEqual({ failed: 0, first: [] });
  });
});

/** Admin writes: valid documents with fields swapped for arbitrary JSON, odd names, raw text, deep nesting. */
describe("fuzz: generated admin requests", () => {
  const ADMIN_RUNS = 300;

  const bases: Record<string, Json> = {
    providers: { format: "openai", baseUrl: "https://x.example.com/mlflow", auth: { type: "none" } },
    teams: { limits: { rpm: 5 }, description: "t" },
    routes: { destinations: [{ provider: "p", model: "m" }] },
    keys: { name: "k", models: ["p/*"], limits: { rpm: 3 } },
  };
  const adminFields = [
    "format",
    "baseUrl",
    "auth",
    "headers",
    "limits",
    "models",
    "destinations",
    "name",
    "expiresAt",
    "team",
    "pricing",
    "timeoutMs",
    "description",
    "retries",
  ];

  const adminCase = fc
    .record({
      kind: fc.constantFrom("providers", "teams", "routes", "keys", "keys-patch"),
      name: fc.oneof(fc.constant("valid-name"), fc.string({ maxLength: 30 })),
      swaps: fc.array(fc.tuple(fc.constantFrom(...adminFields), fc.jsonValue({ maxDepth: 3 })), {
        maxLength: 3,
      }),
      raw: fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
        { weight: 1, arbitrary: fc.integer({ min: 200, max: 9_000 }).map((d) => deepText(d, "array")) },
      ),
    })
    .map(({ kind, name, swaps, raw }) => {
      const base = { ...(bases[kind === "keys-patch" ? "keys" : kind] ?? {}) };
      for (const [field, value] of swaps) base[field] = value;
      const segment = encodeURIComponent(name) || "x";
      const method = kind === "keys" ? "POST" : kind === "keys-patch" ? "PATCH" : "PUT";
      const path =
        kind === "keys"
          ? "/admin/keys"
          : kind === "keys-patch"
            ? `/admin/keys/${segment}`
            : `/admin/${kind}/${segment}`;
      return { method, path, body: raw ?? JSON.stringify(base) };
    });

  it(`${ADMIN_RUNS} seeded admin writes: a 2xx or a well-formed 4xx, never a 5xx`, async () => {
    const cases = fc.sample(adminCase, { seed: 424_242, numRuns: ADMIN_RUNS });
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      const batch = cases.slice(i, i + CONCURRENCY);
      await Promise.all(
        batch.map(async (c) => {
          const { res, settled } = await callWorker(c.path, {
            method: c.method,
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
            body: c.body,
          });
          const text = await res.text();
          await settled();
          let problem: string | null = null;
          if (res.status >= 500) problem = `status ${res.status}`;
          else if (res.status >= 400) {
            const err = (JSON.parse(text) as { error?: { message?: unknown; type?: unknown } }).error;
            if (typeof err?.message !== "string" || typeof err.type !== "string")
              problem = "not an error body";
          }
          if (!res.headers.get("x-request-id")) problem = "no x-request-id";
          if (problem)
            failures.push(
              `${c.method} ${c.path} ${c.body.slice(0, 200)}\n  → ${problem}: ${text.slice(0, 200)}`,
            );
        }),
      );
    }
    expect({ failed: failures.length, first: failures.slice(0, 10) }).toEqual({ failed: 0, first: [] });
  });
});
