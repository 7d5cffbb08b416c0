#!/usr/bin/env node
// @ts-check
/**
 * `npm run demo`: the emulator and the gateway on loopback, a provider and a virtual key created through
 * the admin API, then the real openai SDK streaming a chat completion through the gateway, and last the
 * call as the call log recorded it (Queue → D1), read back from GET /admin/calls.
 */
import OpenAI from "openai";
import { startStack, stopAll } from "./lib/stack.mjs";

const PROVIDER = "databricks";
const MODEL = "databricks-claude-sonnet-4-5";
/** The emulator's PAT, handed to the gateway as the Worker secret DATABRICKS_PAT. */
const PAT = "dapi-local-emulator-pat";

let stopping = false;

/** @param {number} code */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // stopAll also covers a gateway that is still starting when SIGINT arrives.
  await stopAll();
  process.exit(code);
}

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.once(signal, () => {
    console.error(`\ndemo: ${signal}, stopping the emulator and the gateway`);
    void shutdown(130);
  });
}

/** The call log's consumer gets a batch within max_batch_timeout (5 s); this leaves room for a busy machine. */
const CALL_LOG_WAIT_MS = 60_000;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shows the start of a secret only. @param {string} secret */
const mask = (secret) => `${secret.slice(0, 8)}…`;

/**
 * @param {{ status: number, json: unknown }} res
 * @param {number} expected
 * @param {string} what
 */
function expectStatus(res, expected, what) {
  if (res.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${res.status}: ${JSON.stringify(res.json)}`);
  }
}

async function main() {
  console.log("Starting the Databricks emulator and the gateway (wrangler dev) on 127.0.0.1 …");
  const stack = await startStack({ pat: PAT });
  const { emulator, gateway } = stack;
  console.log(`  emulator: ${emulator.url}`);
  console.log(`  gateway:  ${gateway.url}\n`);

  const provider = {
    format: "openai",
    baseUrl: `${emulator.url}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    // What Databricks lists in Unity Catalog, so GET /v1/models shows the emulator's models.
    listModelsUrl: `${emulator.url}/api/2.1/unity-catalog/models`,
  };
  expectStatus(await stack.admin("PUT", `/admin/providers/${PROVIDER}`, provider), 200, "create provider");
  const created = await stack.admin("POST", "/admin/keys", { name: "demo" });
  expectStatus(created, 201, "create virtual key");
  const { key, id: keyId } = /** @type {{ key: string, id: string }} */ (created.json);
  console.log(`Provider '${PROVIDER}' → ${provider.baseUrl} (auth: Worker secret DATABRICKS_PAT)`);
  console.log(`Virtual key created: ${mask(key)}\n`);

  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  console.log("> openai.models.list()");
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  if (!ids.includes(`${PROVIDER}/${MODEL}`)) throw new Error(`models.list() lacks ${PROVIDER}/${MODEL}`);
  console.log(`  ${ids.join("\n  ")}\n`);
  emulator.clearRequests();
  const model = `${PROVIDER}/${MODEL}`;
  console.log(`> openai.chat.completions.create({ model: "${model}", stream: true })\n`);
  const stream = await client.chat.completions.create(
    {
      model,
      messages: [{ role: "user", content: "Tell me about Bricklane in one sentence." }],
      stream: true,
      stream_options: { include_usage: true },
    },
    // Slow the emulator's chunks down a little so the streaming is visible.
    { headers: { "x-emulator-fault": "chunk_delay_ms=150" } },
  );
  /** @type {OpenAI.CompletionUsage | undefined} */
  let usage;
  let finish = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) process.stdout.write(choice.delta.content);
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  process.stdout.write("\n\n");
  if (!usage) throw new Error("the stream ended without a usage chunk");
  console.log(`finish_reason: ${finish}`);
  console.log(
    `usage: prompt_tokens=${usage.prompt_tokens} completion_tokens=${usage.completion_tokens} total_tokens=${usage.total_tokens}`,
  );

  const upstream = emulator.requests.filter((r) => r.path === "/mlflow/v1/chat/completions");
  if (upstream.length === 0) throw new Error("the emulator saw no chat completion request");
  const last = /** @type {(typeof upstream)[number]} */ (upstream.at(-1));
  const sawPat = last.headers.authorization === `Bearer ${PAT}`;
  const leaked = JSON.stringify(upstream).includes(key);
  const body = /** @type {{ model?: string }} */ (last.body ?? {});
  console.log(
    `\nThe gateway sent provider '${PROVIDER}' model '${body.model}' to ${emulator.url}/mlflow/v1/chat/completions.`,
  );
  console.log(
    `The emulator saw the Databricks PAT (${sawPat ? "yes" : "NO"}) and the virtual key (${leaked ? "YES, leaked" : "no"}).`,
  );
  if (!sawPat || leaked) throw new Error("credential check failed");

  // The record goes onto the Queue after the response; the consumer writes it to R2 and D1 in batches. A
  // script may wait by asking again (a test would not).
  console.log(`\nWaiting for the call log (Queue → D1) …`);
  const deadline = Date.now() + CALL_LOG_WAIT_MS;
  /** @type {Record<string, unknown> | undefined} */
  let call;
  while (!call) {
    const listed = await stack.admin("GET", `/admin/calls?key=${keyId}`);
    expectStatus(listed, 200, "read the call log");
    call = /** @type {{ data: Record<string, unknown>[] }} */ (listed.json).data[0];
    if (call) break;
    if (Date.now() > deadline)
      throw new Error(`the call did not reach the call log within ${CALL_LOG_WAIT_MS} ms`);
    await sleep(500);
  }
  console.log(`GET /admin/calls?key=${keyId} →`);
  for (const field of [
    "requestId",
    "time",
    "keyName",
    "provider",
    "model",
    "status",
    "stream",
    "outcome",
    "inputTokens",
    "outputTokens",
    "costUsd",
    "durationMs",
    "firstByteMs",
  ]) {
    console.log(`  ${field.padEnd(12)} ${JSON.stringify(call[field])}`);
  }
  if (call.inputTokens !== usage.prompt_tokens || call.outputTokens !== usage.completion_tokens) {
    throw new Error("the call log's tokens differ from the usage the client got");
  }
}

main().then(
  () => shutdown(0),
  async (err) => {
    if (stopping) return; // interrupted: the signal handler is already cleaning up
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  },
);
