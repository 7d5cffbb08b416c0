#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench`: the same load sent to the Databricks emulator directly and through the gateway
 * (`wrangler dev`), both on loopback, for every scenario in bench/scenarios.mjs.
 *
 * Env: BENCH_SECONDS (10, per scenario and target), BENCH_CONNECTIONS (20), BENCH_FIRST_BYTE_N (200
 * sequential streamed requests per target), BENCH_WORKERS (2 autocannon worker threads, so the load
 * generator does not share the emulator's event loop), BENCH_SCENARIOS (comma-separated names).
 * Results: printed as a table and written to .bench/results.json.
 */
import autocannon from "autocannon";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT, startStack, stopAll } from "../tools/lib/stack.mjs";
import { bigStream } from "./big-stream.mjs";
import { measureFirstByte } from "./first-byte.mjs";
import { ratios, table } from "./report.mjs";
import { SCENARIOS } from "./scenarios.mjs";

/** @typedef {import("./report.mjs").Row} Row */

const PAT = "dapi-local-emulator-pat";
const PROVIDER = "databricks";
const MODEL = "databricks-claude-sonnet-4";

/** @param {string} name @param {number} fallback */
function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

const SECONDS = intEnv("BENCH_SECONDS", 10);
const CONNECTIONS = intEnv("BENCH_CONNECTIONS", 20);
const FIRST_BYTE_N = intEnv("BENCH_FIRST_BYTE_N", 200);
const WORKERS = Math.min(intEnv("BENCH_WORKERS", 2), CONNECTIONS);
/** `miniflare` (default): the bundled Worker on workerd directly; `wrangler`: behind `wrangler dev`. */
const RUNTIME = process.env.BENCH_RUNTIME === "wrangler" ? "wrangler" : "miniflare";
/** Size of the large-stream check (MB of content); 0 skips it. */
const BIG_MB = process.env.BENCH_BIG_STREAM_MB === undefined ? 100 : Number(process.env.BENCH_BIG_STREAM_MB);
const ONLY = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(",").map((s) => s.trim()) : null;

const NOTE = [
  RUNTIME === "miniflare"
    ? "Note: the gateway is the Worker bundled as for deploy, served by workerd through Miniflare (local KV and"
    : "Note: the gateway runs under `wrangler dev`, whose own proxy in front of the Worker dominates these numbers (local KV and",
  "Durable Objects, one key, so one limiter object serialises every call). Load generator, emulator and",
  "workerd share this machine's 2 CPUs: read the ratios as an upper bound on the gateway's cost, not as",
  "edge performance. BENCH_RUNTIME=wrangler measures behind `wrangler dev` instead.",
].join("\n");

let stopping = false;
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.once(signal, () => {
    stopping = true;
    console.error(`\nbench: ${signal}, stopping`);
    void stopAll().then(() => process.exit(130));
  });
}

/**
 * One autocannon run.
 * @param {{ url: string, headers: Record<string, string>, body: string }} target
 */
async function load(target) {
  const result = await autocannon({
    url: target.url,
    method: "POST",
    headers: target.headers,
    body: target.body,
    connections: CONNECTIONS,
    duration: SECONDS,
    workers: WORKERS,
  });
  return {
    rps: Number(result.requests.average),
    p50: Number(result.latency.p50),
    p99: Number(result.latency.p99),
    non2xx: Number(result.non2xx),
    errors: Number(result.errors) + Number(result.timeouts),
  };
}

/**
 * A few sequential requests so wrangler has built the Worker and connections are open.
 * @param {{ url: string, headers: Record<string, string>, body: string }} target
 */
async function warmUp(target) {
  for (let i = 0; i < 20; i++) {
    const res = await fetch(target.url, { method: "POST", headers: target.headers, body: target.body });
    await res.arrayBuffer();
    if (i === 0 && !res.ok) throw new Error(`warm-up request to ${target.url} answered HTTP ${res.status}`);
  }
}

async function main() {
  const scenarios = ONLY ? SCENARIOS.filter((s) => ONLY.includes(s.name)) : SCENARIOS;
  if (scenarios.length === 0)
    throw new Error(`no scenario matches BENCH_SCENARIOS=${process.env.BENCH_SCENARIOS}`);
  console.log(
    `Bricklane bench: ${scenarios.map((s) => s.name).join(", ")}; ${SECONDS} s x ${CONNECTIONS} connections ` +
      `(${WORKERS} autocannon workers) per scenario and target; ${FIRST_BYTE_N} sequential first-byte requests.`,
  );
  console.log("Starting the emulator and the gateway on 127.0.0.1 …");
  const stack = await startStack({ pat: PAT, runtime: RUNTIME });
  const provider = {
    format: "openai",
    baseUrl: `${stack.emulator.url}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  };
  const put = await stack.admin("PUT", `/admin/providers/${PROVIDER}`, provider);
  if (put.status !== 200) throw new Error(`create provider: HTTP ${put.status} ${JSON.stringify(put.json)}`);
  const created = await stack.admin("POST", "/admin/keys", { name: "bench" });
  if (created.status !== 201)
    throw new Error(`create key: HTTP ${created.status} ${JSON.stringify(created.json)}`);
  const { id: keyId, key } = /** @type {{ id: string, key: string }} */ (created.json);

  const targets = /** @type {const} */ ([
    { name: "direct", url: `${stack.emulator.url}/mlflow/v1/chat/completions`, token: PAT, model: MODEL },
    {
      name: "gateway",
      url: `${stack.gateway.url}/v1/chat/completions`,
      token: key,
      model: `${PROVIDER}/${MODEL}`,
    },
  ]);

  /** @type {Row[]} */
  const rows = [];
  for (const scenario of scenarios) {
    await scenario.setup?.({ admin: stack.admin, keyId });
    for (const t of targets) {
      if (stopping) return;
      const target = {
        url: t.url,
        headers: {
          authorization: `Bearer ${t.token}`,
          "content-type": "application/json",
          ...scenario.headers,
        },
        body: JSON.stringify({ model: t.model, ...scenario.body }),
      };
      process.stdout.write(`  ${scenario.name} → ${t.name}: load …`);
      await warmUp(target);
      const result = await load(target);
      let fbP50 = null;
      let fbP99 = null;
      if (scenario.firstByte) {
        process.stdout.write(" first byte …");
        const fb = await measureFirstByte({ ...target, n: FIRST_BYTE_N });
        fbP50 = fb.p50;
        fbP99 = fb.p99;
        result.errors += fb.failures;
      }
      process.stdout.write(` ${result.rps.toFixed(0)} req/s\n`);
      rows.push({ scenario: scenario.name, target: t.name, ...result, fbP50, fbP99 });
      stack.emulator.clearRequests();
    }
  }

  console.log(`\n${table(rows)}\n\n${NOTE}`);

  /** @type {Awaited<ReturnType<typeof bigStream>> | null} */
  let big = null;
  if (BIG_MB > 0 && !stopping) {
    // 1000-character chunks; the client does not ask for usage, so the gateway reads every frame (the
    // heavier of its two passthrough paths).
    const chunks = Math.round((BIG_MB * 1_000_000) / 1000);
    process.stdout.write(`\nLarge stream: ${BIG_MB} MB of content through the gateway …`);
    big = await bigStream({
      url: targets[1].url,
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "x-emulator-fault": `chunks=${chunks};chunk_bytes=1000`,
      },
      body: JSON.stringify({
        model: targets[1].model,
        messages: [{ role: "user", content: "big" }],
        stream: true,
      }),
      megabytes: BIG_MB,
    });
    console.log(
      ` ${(big.bytes / 1e6).toFixed(0)} MB in ${big.seconds.toFixed(1)} s ` +
        `(${(big.bytes / 1e6 / big.seconds).toFixed(0)} MB/s); workerd RSS ${big.rssBeforeMiB.toFixed(0)} MiB before, ` +
        `${big.rssPeakMiB.toFixed(0)} MiB at most while streaming.`,
    );
  }
  const summary = scenarios.flatMap((s) => {
    const direct = rows.find((r) => r.scenario === s.name && r.target === "direct");
    const gateway = rows.find((r) => r.scenario === s.name && r.target === "gateway");
    return direct && gateway ? [{ scenario: s.name, gatewayOverDirect: ratios(direct, gateway) }] : [];
  });
  const out = join(REPO_ROOT, ".bench", "results.json");
  await mkdir(join(REPO_ROOT, ".bench"), { recursive: true });
  const settings = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    firstByteRequests: FIRST_BYTE_N,
    workers: WORKERS,
  };
  const meta = { date: new Date().toISOString(), node: process.version, ...settings };
  await writeFile(
    out,
    `${JSON.stringify({ ...meta, note: NOTE, rows, summary, bigStream: big }, null, 2)}\n`,
  );
  console.log(`\nResults written to ${out}`);
}

main().then(
  async () => {
    await stopAll();
    process.exit(0);
  },
  async (err) => {
    if (stopping) return;
    console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
