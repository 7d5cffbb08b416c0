import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";

/**
 * Without MAX_BODY_BYTES the gateway accepts request bodies up to 32 MiB: coding agents send long
 * histories and images, and Anthropic itself accepts 32 MB. (The other worker tests run with a small
 * limit of their own, set in vitest.config.ts.)
 */

const MIB = 1024 * 1024;

async function post(bytes: number): Promise<Response> {
  const { MAX_BODY_BYTES: _configured, ...rest } = env;
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("http://gateway.test/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(bytes) },
      body: "x".repeat(bytes),
    }),
    rest,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("the default body limit", () => {
  it("lets a 31 MiB body through to key auth (401, not 413)", async () => {
    expect((await post(31 * MIB)).status).toBe(401);
  });

  it("answers 413 just above 32 MiB", async () => {
    const res = await post(32 * MIB + 1);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(String(32 * MIB));
  });
});
