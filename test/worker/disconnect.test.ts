import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { emulatorReached, setup, userMessage } from "./helpers";

describe("client disconnect", () => {
  it("cancelling a stream mid-way closes the upstream connection", async () => {
    const { key, model } = await setup();
    const marker = crypto.randomUUID();
    const res = await SELF.fetch("http://gateway.test/v1/chat/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "x-trace": marker,
        // 200 chunks 50 ms apart: ten seconds of stream unless someone hangs up.
        "x-emulator-fault": "chunks=200;chunk_delay_ms=50",
      },
      body: JSON.stringify({ model, messages: userMessage(), stream: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    // Resolves when the emulator sees its client (the gateway) go away; the test's timeout is the failure.
    await emulatorReached("x-trace", marker, "closed");
  });

  it("aborting while the upstream has not answered yet closes the upstream connection", async () => {
    const { key, model } = await setup();
    const marker = crypto.randomUUID();
    const controller = new AbortController();
    const pending = SELF.fetch("http://gateway.test/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "x-trace": marker, "x-emulator-fault": "hang=1" },
      body: JSON.stringify({ model, messages: userMessage() }),
      signal: controller.signal,
    });
    await emulatorReached("x-trace", marker, "received");
    controller.abort();
    await expect(pending).rejects.toThrow();
    await emulatorReached("x-trace", marker, "closed");
  });
});
