import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PAT, anthropicFormat, chat, messages, setup, userMessage } from "./helpers";

/**
 * Invariant 3: the upstream credential never reaches a client, a log or an error message, even when the
 * upstream repeats it back (fault echo_auth). The Worker runs in this isolate, so its console is ours to
 * watch.
 */
describe("the upstream credential stays secret", () => {
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

  async function settle() {
    // Logs are written after the response (waitUntil); give them a moment.
    await new Promise((r) => setTimeout(r, 100));
  }

  it.each([400, 401, 429, 500])(
    "upstream %i echoing the token: not in the response, not in the logs",
    async (status) => {
      const { key, model } = await setup();
      const res = await chat(
        key,
        { model, messages: userMessage() },
        { "x-emulator-fault": `status=${status};echo_auth=1` },
      );
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain(PAT);
      await settle();
      expect(logged.length).toBeGreaterThan(0);
      for (const line of logged) expect(line).not.toContain(PAT);
      // The message still says what the upstream said, with the secret taken out.
      if (status === 400) expect(text).toContain("[redacted]");
    },
  );

  it("same for the Anthropic route", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await messages(
      key,
      { model: `${provider}/m`, max_tokens: 10, messages: userMessage() },
      { "x-emulator-fault": "status=400;echo_auth=1" },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain(PAT);
    await settle();
    for (const line of logged) expect(line).not.toContain(PAT);
  });

  it("successful calls log no credential and no virtual key", async () => {
    const { key, model } = await setup();
    const res = await chat(key, { model, messages: userMessage(), stream: true });
    await res.text();
    await settle();
    expect(logged.some((l) => l.includes('"msg":"call"'))).toBe(true);
    for (const line of logged) {
      expect(line).not.toContain(PAT);
      expect(line).not.toContain(key);
    }
  });
});
