import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../tools/emulator/emulator.mjs";
import { adminClient, startGatewayMiniflare } from "../../tools/lib/stack.mjs";

/**
 * Clients that hang up in the middle of a stream, over real TCP, against the bundle served by Miniflare
 * directly, as workerd serves it at the edge. `wrangler dev` (the other e2e files) puts a proxy in front
 * that cancels the response stream itself; served directly, a JavaScript response stream was not told
 * when its client went away (workerd issue 6832): after ten such hang-ups, none of the ten calls had
 * settled (usage never charged, no log written). The relay's stream now reaches the client through a native stream,
 * whose cancel workerd does deliver.
 */
const PAT = "dapi-hang-up-pat";
const ADMIN_TOKEN = "hang-up-admin-token";
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let gateway: Awaited<ReturnType<typeof startGatewayMiniflare>>;
let key: string;

beforeAll(async () => {
  emulator = await startEmulator({ pat: PAT });
  gateway = await startGatewayMiniflare({ assets: false, vars: { ADMIN_TOKEN, DATABRICKS_PAT: PAT } });
  const admin = adminClient(gateway.url, ADMIN_TOKEN);
  const put = await admin("PUT", "/admin/providers/databricks", {
    format: "openai",
    baseUrl: `${emulator.url}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  });
  expect(put.status).toBe(200);
  const created = await admin("POST", "/admin/keys", { name: "hang-up" });
  expect(created.status).toBe(201);
  key = (created.json as { key: string }).key;
});

afterAll(async () => {
  await gateway?.stop();
  await emulator?.close();
});

/** One streamed call whose client reads the first chunk and hangs up; resolves with its call's log line. */
async function hangUp(format: "openai" | "anthropic"): Promise<Record<string, unknown>> {
  const marker = crypto.randomUUID();
  const logged = gateway.nextLine((line) => line.includes('"msg":"call"') && line.includes(marker));
  const controller = new AbortController();
  const path = format === "openai" ? "/v1/chat/completions" : "/v1/messages";
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    signal: controller.signal,
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "x-request-id": marker,
      "x-trace": marker,
      // 2,000 chunks 20 ms apart: forty seconds of stream, past the test's timeout, unless the hang-up is seen.
      "x-emulator-fault": "chunks=2000;chunk_delay_ms=20",
    },
    body: JSON.stringify({
      model: "databricks/databricks-claude-sonnet-4",
      max_tokens: 100,
      messages: [{ role: "user", content: "a long story" }],
      stream: true,
    }),
  });
  expect(res.status).toBe(200);
  const first = await res.body!.getReader().read();
  expect(first.done).toBe(false);
  controller.abort();
  const query = new URLSearchParams({ header: "x-trace", value: marker, until: "closed" });
  const closed = await fetch(`${emulator.url}/__emulator/wait?${query}`);
  expect(closed.status).toBe(200);
  const line = await logged;
  return JSON.parse(line.slice(line.indexOf("{"))) as Record<string, unknown>;
}

describe("a client that hangs up mid-stream", () => {
  it("ends the upstream call and the call is settled as cancelled, every time", async () => {
    for (let i = 0; i < 6; i++) {
      const line = await hangUp("openai");
      expect(line["bricklane.outcome"]).toBe("client_cancelled");
      expect(line["http.response.status_code"]).toBe(200);
      // The call is charged: the upstream's usage never came, so the prompt's tokens are estimated.
      expect(line["bricklane.tokens_estimated"]).toBe(true);
      expect(line["gen_ai.usage.input_tokens"]).toBeGreaterThan(0);
    }
  });

  it("does the same for a stream translated into the other format", async () => {
    for (let i = 0; i < 3; i++) {
      const line = await hangUp("anthropic");
      expect(line["bricklane.outcome"]).toBe("client_cancelled");
    }
  });
});
