// @ts-check
/**
 * Everything the bench sends load to, started side by side on loopback: the Databricks emulator (the
 * upstream of all the others), the floor Worker and its variants, Portkey's gateway on Node, and
 * Bricklane (through bench/gateway-entry.ts, which counts Durable Object calls) with two keys.
 */
import { join } from "node:path";
import { startEmulator } from "../tools/emulator/emulator.mjs";
import { REPO_ROOT, adminClient, startGatewayMiniflare, track } from "../tools/lib/stack.mjs";
import { startPortkey } from "./portkey.mjs";

export const PAT = "dapi-local-emulator-pat";
const ADMIN_TOKEN = "bench-admin-token";
const PROVIDER = "databricks";
export const MODEL = "databricks-claude-sonnet-4";

/**
 * @typedef {object} Target
 * @property {string} name
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} model the `model` the client sends
 * @property {boolean} [counted] requests and Durable Object calls are counted by the gateway entry
 */

/**
 * @typedef {object} DoStats
 * @property {number} started gateway requests started so far
 * @property {number} returned gateway requests whose handler returned (a response or an error)
 * @property {number} completed gateway requests done, with the work they left to waitUntil
 * @property {Record<string, number>} calls Durable Object calls of the completed requests, by
 *   `<binding>.<method>`
 */

/** The key with every limit but concurrency (high enough never to refuse): rpm, tpm and a budget. */
export const LIMITS = { rpm: 100_000_000, tpm: 1_000_000_000_000, budget: { usd: 1_000_000, period: "day" } };

/** @param {{ status: number, json: unknown }} res @param {number} want @param {string} what */
function expectStatus(res, want, what) {
  if (res.status !== want) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
}

/**
 * The emulator and the floor (with every variant of bench/floor/stages.ts on its own path).
 * @returns {Promise<{ emulator: Awaited<ReturnType<typeof startEmulator>>, floorUrl: string, stop: () => Promise<void> }>}
 */
export async function startFloor() {
  const emulator = await startEmulator({ pat: PAT });
  const stopEmulator = track({ stop: () => emulator.close() });
  try {
    const floor = await startGatewayMiniflare({
      configPath: join(REPO_ROOT, "bench", "floor", "wrangler.toml"),
      vars: { UPSTREAM_URL: emulator.url, DATABRICKS_PAT: PAT },
    });
    return {
      emulator,
      floorUrl: floor.url,
      stop: async () => {
        await Promise.allSettled([floor.stop(), stopEmulator()]);
      },
    };
  } catch (err) {
    await stopEmulator();
    throw err;
  }
}

/** @param {string} floorUrl @param {string} variant */
export const floorTarget = (floorUrl, variant) => ({
  name: variant === "floor" ? "floor" : `floor+${variant}`,
  url: `${floorUrl}/${variant}/v1/chat/completions`,
  headers: {},
  model: MODEL,
});

/**
 * Every target of the comparison, in table order.
 * @returns {Promise<{ targets: Target[], stats: () => Promise<DoStats>, setDoDelay: (ms: number) => Promise<void>, stop: () => Promise<void> }>}
 */
export async function startAll() {
  const base = await startFloor();
  /** @type {(() => Promise<void>)[]} */
  const stops = [base.stop];
  const stop = async () => {
    await Promise.allSettled(stops.map((s) => s()));
  };
  try {
    const portkey = await startPortkey({ upstream: base.emulator.url });
    stops.push(portkey.stop);
    // Without Miniflare's asset router in front (see serveBundle): the edge routes /ui/* before the Worker.
    const gateway = await startGatewayMiniflare({
      assets: false,
      entry: join(REPO_ROOT, "bench", "gateway-entry.ts"),
      vars: { ADMIN_TOKEN, DATABRICKS_PAT: PAT },
    });
    stops.push(gateway.stop);

    const admin = adminClient(gateway.url, ADMIN_TOKEN);
    expectStatus(
      await admin("PUT", `/admin/providers/${PROVIDER}`, {
        format: "openai",
        baseUrl: `${base.emulator.url}/mlflow`,
        auth: { type: "bearer", secret: "DATABRICKS_PAT" },
      }),
      200,
      "create provider",
    );
    const plain = await admin("POST", "/admin/keys", { name: "bench, no limits" });
    expectStatus(plain, 201, "create key");
    const limited = await admin("POST", "/admin/keys", { name: "bench, limits", limits: LIMITS });
    expectStatus(limited, 201, "create key with limits");
    const keyOf = (/** @type {{ json: unknown }} */ res) => /** @type {{ key: string }} */ (res.json).key;

    const gatewayUrl = `${gateway.url}/v1/chat/completions`;
    /** @type {Target[]} */
    const targets = [
      {
        name: "emulator",
        url: `${base.emulator.url}/mlflow/v1/chat/completions`,
        headers: { authorization: `Bearer ${PAT}` },
        model: MODEL,
      },
      floorTarget(base.floorUrl, "floor"),
      floorTarget(base.floorUrl, "decode"),
      {
        name: "portkey",
        url: `${portkey.url}/v1/chat/completions`,
        headers: { authorization: `Bearer ${PAT}`, ...portkey.headers },
        model: MODEL,
      },
      {
        name: "bricklane",
        url: gatewayUrl,
        headers: { authorization: `Bearer ${keyOf(plain)}` },
        model: `${PROVIDER}/${MODEL}`,
        counted: true,
      },
      {
        name: "bricklane+limits",
        url: gatewayUrl,
        headers: { authorization: `Bearer ${keyOf(limited)}` },
        model: `${PROVIDER}/${MODEL}`,
        counted: true,
      },
    ];
    return {
      targets,
      async stats() {
        const res = await fetch(`${gateway.url}/__bench/stats`);
        if (!res.ok) throw new Error(`/__bench/stats: HTTP ${res.status}`);
        return /** @type {DoStats} */ (await res.json());
      },
      async setDoDelay(ms) {
        const res = await fetch(`${gateway.url}/__bench/do-delay?ms=${ms}`, { method: "POST" });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`/__bench/do-delay: HTTP ${res.status}`);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
