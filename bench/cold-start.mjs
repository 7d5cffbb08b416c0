// @ts-check
/**
 * Cold start: what a new isolate pays before and at its first request, for Bricklane's bundle beside a
 * baseline with the same bindings and almost no code (bench/baseline-entry.ts), so the difference is the
 * bundle's own. Two measurements, each repeated with fresh processes and reported as medians:
 * - workerd: a fresh Miniflare serving the bundle, from `new Miniflare()` to ready (workerd starting,
 *   compiling the bundle and evaluating its top level), then the first and second requests, both
 *   POST /v1/chat/completions with an unknown key (Bricklane: a 401 after routing, key auth and a KV
 *   read; the baseline: a 401 at once);
 * - V8 import: a fresh Node process importing the bundle (parse, compile and top-level evaluation in the
 *   engine workerd uses), without a runtime around it: the bundle's own share, with less noise.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, bundleWorker, serveBundle } from "../tools/lib/stack.mjs";
import { percentile } from "./first-byte.mjs";
import { fmt, formatTable } from "./report.mjs";

const run = promisify(execFile);

/**
 * @typedef {object} ColdStartRow
 * @property {string} bundle
 * @property {number} rawBytes
 * @property {number} startupMs median, new Miniflare() to ready
 * @property {number} firstRequestMs median
 * @property {number} secondRequestMs median
 * @property {number} v8ImportMs median
 * @property {number[]} startupSamples
 * @property {number[]} v8ImportSamples
 */

/** @param {number[]} xs */
const median = (xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * One request on a connection of its own. (fetch keeps idle connections per origin, and a fresh
 * Miniflare may get the port of one stopped a moment ago: its first request then went out on a dead
 * socket and failed.)
 * @param {string} url @param {{ method: string, headers: Record<string, string>, body: string }} init
 * @param {number} status
 */
async function timed(url, init, status) {
  const t0 = performance.now();
  const got = await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method, headers: init.headers, agent: false }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
  const ms = performance.now() - t0;
  if (got !== status) throw new Error(`${init.method} ${url}: HTTP ${got}, expected ${status}`);
  return ms;
}

/**
 * @param {number} n fresh starts per bundle
 * @returns {Promise<{ rows: ColdStartRow[], n: number, note: string }>}
 */
export async function measureColdStart(n) {
  process.stdout.write(`\nCold start: bundling, then ${n} fresh starts of each bundle …`);
  const gateway = await bundleWorker();
  const baseline = await bundleWorker({ entry: join(REPO_ROOT, "bench", "baseline-entry.ts") });
  const chatWithUnknownKey = {
    path: "/v1/chat/completions",
    init: {
      method: "POST",
      headers: { authorization: "Bearer bl-not-a-key", "content-type": "application/json" },
      body: JSON.stringify({ model: "p/m", messages: [{ role: "user", content: "hi" }] }),
    },
    status: 401,
  };
  const specs = [
    {
      name: "baseline",
      bundle: baseline,
      rawBytes: (await stat(baseline.scriptPath)).size,
      vars: { ADMIN_TOKEN: "cold-start-admin", DATABRICKS_PAT: "unused" },
      request: chatWithUnknownKey,
    },
    {
      name: "bricklane",
      bundle: gateway,
      rawBytes: (await stat(gateway.scriptPath)).size,
      vars: { ADMIN_TOKEN: "cold-start-admin", DATABRICKS_PAT: "unused" },
      request: chatWithUnknownKey,
    },
  ];
  /** @type {Map<string, { startup: number[], first: number[], second: number[], v8: number[] }>} */
  const samples = new Map(specs.map((s) => [s.name, { startup: [], first: [], second: [], v8: [] }]));
  try {
    // Interleaved, so a busy moment of the machine falls on both bundles alike.
    for (let i = 0; i < n; i++) {
      for (const spec of specs) {
        const s = /** @type {NonNullable<ReturnType<typeof samples.get>>} */ (samples.get(spec.name));
        const t0 = performance.now();
        const served = await serveBundle(spec.bundle, { vars: spec.vars });
        s.startup.push(performance.now() - t0);
        try {
          const url = `${served.url}${spec.request.path}`;
          s.first.push(await timed(url, spec.request.init, spec.request.status));
          s.second.push(await timed(url, spec.request.init, spec.request.status));
        } finally {
          await served.stop();
        }
        const { stdout } = await run(process.execPath, [
          join(REPO_ROOT, "bench", "v8-import.mjs"),
          spec.bundle.scriptPath,
        ]);
        s.v8.push(/** @type {{ ms: number }} */ (JSON.parse(stdout)).ms);
      }
      process.stdout.write(".");
    }
  } finally {
    await Promise.allSettled([gateway.remove(), baseline.remove()]);
  }
  console.log(" done");
  /** @type {ColdStartRow[]} */
  const rows = specs.map((spec) => {
    const s = /** @type {NonNullable<ReturnType<typeof samples.get>>} */ (samples.get(spec.name));
    return {
      bundle: spec.name,
      rawBytes: spec.rawBytes,
      startupMs: median(s.startup),
      firstRequestMs: median(s.first),
      secondRequestMs: median(s.second),
      v8ImportMs: median(s.v8),
      startupSamples: s.startup,
      v8ImportSamples: s.v8,
    };
  });
  const note =
    "startup: new Miniflare() to ready (workerd start, bundle compiled and evaluated); 1st/2nd request: a " +
    "chat call with an unknown key (Bricklane: routing, key auth, a KV read, the 401); V8 import: a fresh " +
    "Node importing the bundle (parse, compile, top-level evaluation). baseline: the same bindings, no code.";
  return { rows, n, note };
}

/** @param {{ rows: ColdStartRow[], n: number }} cold */
export function coldStartTable(cold) {
  const lines = cold.rows.map((r) => [
    r.bundle,
    fmt(r.rawBytes / 1024),
    fmt(r.startupMs),
    fmt(r.firstRequestMs),
    fmt(r.secondRequestMs),
    fmt(r.v8ImportMs),
  ]);
  const [baseline, bricklane] = cold.rows;
  if (baseline && bricklane) {
    lines.push([
      "bricklane - baseline",
      "",
      fmt(bricklane.startupMs - baseline.startupMs),
      fmt(bricklane.firstRequestMs - baseline.firstRequestMs),
      fmt(bricklane.secondRequestMs - baseline.secondRequestMs),
      fmt(bricklane.v8ImportMs - baseline.v8ImportMs),
    ]);
  }
  return `Cold start (${cold.n} fresh starts each, medians, ms):\n${formatTable(
    ["bundle", "KiB", "startup", "1st request", "2nd request", "V8 import"],
    lines,
  )}`;
}
