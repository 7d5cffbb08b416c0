import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { emulatorRequests, setup, userMessage } from "./helpers";

/** Polls the emulator until the request tagged `marker` is recorded as closed by its client. */
async function upstreamClosed(marker: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
    if (seen && (seen as { clientClosed?: boolean }).clientClosed) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

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
    expect(await upstreamClosed(marker)).toBe(true);
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
    // Wait until the upstream has the request, then hang up.
    for (let i = 0; i < 100; i++) {
      if ((await emulatorRequests()).some((r) => r.headers["x-trace"] === marker)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(await upstreamClosed(marker)).toBe(true);
  });
});
