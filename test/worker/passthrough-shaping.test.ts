import { describe, expect, it } from "vitest";
import {
  admin,
  anthropicFormat,
  chat,
  emulatorRequests,
  messages,
  setup,
  uniqueName,
  type Json,
} from "./helpers";

/**
 * A provider's `passthrough` shaping, for upstreams that reject newer client features. The emulator's
 * `strict` fault plays such an upstream: it answers 400 to the betas `context-management-*` and
 * `prompt-caching-scope-*`, a top-level `context_management`, and `scope` in any `cache_control`.
 */

const BETAS =
  "claude-code-20250219,context-management-2025-06-27,prompt-caching-scope-2026-01-05,effort-2025-11-24";

const SHAPING = {
  passthrough: {
    removeBetas: ["context-management-*", "prompt-caching-scope-2026-01-05"],
    removeFields: ["context_management", "cache_control.scope"],
  },
};

/** Claude Code's newer features in every place Anthropic allows cache_control. */
const request = (model: string, extra: Json = {}): Json => ({
  model,
  max_tokens: 64,
  system: [{ type: "text", text: "sys", cache_control: { type: "ephemeral", scope: "global" } }],
  messages: [
    {
      role: "user",
      content: [{ type: "text", text: "first", cache_control: { type: "ephemeral", scope: "global" } }],
    },
    { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: { scope: "kept" } }] },
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "t1",
          content: [{ type: "text", text: "done", cache_control: { type: "ephemeral", scope: "global" } }],
          cache_control: { type: "ephemeral", ttl: "1h", scope: "global" },
        },
      ],
    },
  ],
  tools: [
    { name: "f", input_schema: { type: "object" }, cache_control: { type: "ephemeral", scope: "global" } },
  ],
  context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
  thinking: { type: "adaptive" },
  ...extra,
});

const strict = (marker: string) => ({
  "anthropic-beta": BETAS,
  "x-emulator-fault": "strict=1",
  "x-trace": marker,
});

async function upstream(marker: string) {
  return (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
}

/** Every `cache_control` object anywhere in a value. */
function cacheControls(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(cacheControls);
  if (typeof value !== "object" || value === null) return [];
  const own = "cache_control" in value ? [value.cache_control as Json] : [];
  return [...own, ...Object.values(value).flatMap(cacheControls)];
}

describe("passthrough shaping for a strict upstream", () => {
  it("without the option: the strict upstream's 400 reaches the client", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const marker = crypto.randomUUID();
    const res = await messages(key, request(`${provider}/m`), strict(marker));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/anthropic-beta|context_management|cache_control\.scope/);
    expect((await upstream(marker))?.headers["anthropic-beta"]).toBe(BETAS);
  });

  it.each([
    ["a newer beta", { "anthropic-beta": "context-management-2025-06-27" }, {}, /anthropic-beta/],
    ["context_management", {}, { context_management: { edits: [] } }, /context_management/],
    [
      "cache_control.scope",
      {},
      { system: [{ type: "text", text: "s", cache_control: { type: "ephemeral", scope: "global" } }] },
      /cache_control\.scope/,
    ],
  ])("the strict upstream refuses %s on its own", async (_n, headers, extra, message) => {
    const { key, provider } = await setup(anthropicFormat());
    const body = {
      model: `${provider}/m`,
      max_tokens: 8,
      messages: [{ role: "user", content: "x" }],
      ...extra,
    };
    const res = await messages(key, body, { ...headers, "x-emulator-fault": "strict=1" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    // The same request without the strict upstream is fine: the 400 is the upstream's, for that feature.
    expect((await messages(key, body, headers)).status).toBe(200);
  });

  it("with the option: 200, and the upstream received neither the betas nor the fields", async () => {
    const { key, provider } = await setup({ ...anthropicFormat(), ...SHAPING });
    const marker = crypto.randomUUID();
    const sent = request(`${provider}/m`);
    const res = await messages(key, sent, strict(marker));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { type: string }).type).toBe("message");

    const seen = await upstream(marker);
    expect(seen?.headers["anthropic-beta"]).toBe("claude-code-20250219,effort-2025-11-24");
    const body = seen?.body as Json;
    expect(body).not.toHaveProperty("context_management");
    const controls = cacheControls(body);
    expect(controls).toHaveLength(5);
    for (const cc of controls) expect(cc).not.toHaveProperty("scope");
    expect(controls).toContainEqual({ type: "ephemeral", ttl: "1h" });
    // Only the named fields go: a tool input's own "scope", thinking and everything else stay as sent.
    const { context_management: _cm, ...rest } = sent;
    expect(JSON.stringify(body).replaceAll(',"scope":"global"', "")).toBe(
      JSON.stringify({ ...rest, model: "m" }).replaceAll(',"scope":"global"', ""),
    );
    expect(JSON.stringify(body)).toContain('"input":{"scope":"kept"}');
  });

  it("streams too, and removes the whole header when no beta is left", async () => {
    const { key, provider } = await setup({ ...anthropicFormat(), ...SHAPING });
    const marker = crypto.randomUUID();
    const res = await messages(key, request(`${provider}/m`, { stream: true }), {
      "anthropic-beta": "context-management-2025-06-27",
      "x-emulator-fault": "strict=1",
      "x-trace": marker,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("event: message_stop");
    expect((await upstream(marker))?.headers).not.toHaveProperty("anthropic-beta");
  });

  it("applies to count_tokens", async () => {
    const { key, provider } = await setup({ ...anthropicFormat(), ...SHAPING });
    const marker = crypto.randomUUID();
    const { max_tokens: _mt, ...body } = request(`${provider}/m`);
    const res = await messages(key, body, strict(marker), "/v1/messages/count_tokens");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-estimated")).toBeNull();
    expect((await upstream(marker))?.body).not.toHaveProperty("context_management");
  });

  it("removes named fields on OpenAI-format passthrough as well", async () => {
    const { key, provider } = await setup({
      passthrough: { removeFields: ["prompt_cache_key", "metadata.trace"] },
    });
    const marker = crypto.randomUUID();
    const res = await chat(
      key,
      {
        model: `${provider}/m`,
        messages: [{ role: "user", content: "hi" }],
        prompt_cache_key: "k",
        metadata: { trace: "t", team: "a" },
      },
      { "x-trace": marker },
    );
    expect(res.status).toBe(200);
    expect((await upstream(marker))?.body).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      metadata: { team: "a" },
    });
  });

  it("leaves translated requests alone: the translation never sends these", async () => {
    const { key, provider } = await setup(SHAPING);
    const marker = crypto.randomUUID();
    const res = await messages(key, request(`${provider}/m`), { ...strict(marker), "x-emulator-fault": "" });
    expect(res.status).toBe(200);
    const wire = JSON.stringify((await upstream(marker))?.body);
    expect(wire).not.toContain("cache_control");
    expect(wire).not.toContain("context_management");
  });

  it.each([
    [{ removeBetas: ["has space"] }, "passthrough.removeBetas[0]"],
    [{ removeFields: ["a..b"] }, "passthrough.removeFields[0]"],
    [{ removeFields: ["x"], other: true }, "passthrough"],
  ])("the admin API rejects %j, naming %s", async (passthrough, path) => {
    const r = await admin("PUT", `/providers/${uniqueName()}`, {
      ...anthropicFormat(),
      auth: { type: "none" },
      passthrough,
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toContain(path);
  });
});
