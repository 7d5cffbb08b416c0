// @ts-check
/**
 * Codex CLI's time to first token through the gateway, over its WebSocket transport and over HTTPS.
 *
 * Starts the emulator and `wrangler dev` (as the e2e tests do), then runs `codex exec --json` with the
 * prompt `run-bash: true` (a shell call, then an answer quoting its output) CODEX_TTFT_RUNS times per
 * transport (default 5), alternating between them. Per run it records:
 * - `turn TTFT`: Codex's own `codex.turn_ttft` (from the turn's start to its first token, as Codex
 *   reports it at RUST_LOG=info): what the user waits for;
 * - `first item`: from spawning the process to the first `item.*` event on stdout (Codex's start-up
 *   included);
 * - `wall`: the whole run (two model calls and the command).
 * Prints medians, min and max per transport, and writes every sample to .bench/codex-ttft.json.
 *
 *   npm run bench:codex
 *   CODEX_TTFT_RUNS=10 CODEX_TTFT_FORMAT=openai node bench/codex-ttft.mjs
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codexConfig } from "../tools/lib/codex.mjs";
import { REPO_ROOT, startStack } from "../tools/lib/stack.mjs";
import { percentile } from "./first-byte.mjs";

const RUNS = Number(process.env.CODEX_TTFT_RUNS ?? 5);
const FORMAT = process.env.CODEX_TTFT_FORMAT === "openai" ? "openai" : "anthropic";
const CODEX = join(REPO_ROOT, "node_modules", ".bin", "codex");
const PAT = "dapi-bench-codex-pat";

/**
 * @typedef {{ transport: string, turnTtft: number, firstItem: number, wall: number, fellBack: boolean }} Sample
 */

/**
 * @param {string} gateway
 * @param {string} key
 * @param {boolean} websockets
 * @returns {Promise<Sample>}
 */
async function run(gateway, key, websockets) {
  const home = await mkdtemp(join(tmpdir(), "bricklane-ttft-home-"));
  const dir = await mkdtemp(join(tmpdir(), "bricklane-ttft-work-"));
  await writeFile(
    join(home, "config.toml"),
    codexConfig({ gatewayUrl: gateway, model: "bench/databricks-claude-sonnet-4", websockets }),
  );
  const t0 = performance.now();
  const child = spawn(
    CODEX,
    [
      "exec",
      "--ephemeral",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--json",
      "run-bash: true",
    ],
    {
      cwd: dir,
      env: { ...process.env, HOME: home, CODEX_HOME: home, BRICKLANE_KEY: key, RUST_LOG: "info" },
      stdio: ["ignore", "pipe", "pipe"],
      signal: AbortSignal.timeout(60_000),
      killSignal: "SIGKILL",
    },
  );
  let firstItem = NaN;
  let pending = "";
  let stderr = "";
  child.stdout.on("data", (/** @type {Buffer} */ chunk) => {
    const now = performance.now() - t0;
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      const type = String(JSON.parse(line).type);
      if (type.startsWith("item.") && Number.isNaN(firstItem)) firstItem = now;
    }
  });
  child.stderr.on("data", (/** @type {Buffer} */ chunk) => (stderr += chunk.toString("utf8")));
  child.on("error", () => {});
  const code = await new Promise((resolve) => child.once("exit", resolve));
  const wall = performance.now() - t0;
  await rm(home, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`codex exited with ${code}:\n${stderr.slice(-2000)}`);
  const turnTtft =
    /event\.name="codex\.turn_ttft"[^\n]*?duration_ms=(\d+)/.exec(stderr) ??
    /duration_ms=(\d+)[^\n]*?event\.name="codex\.turn_ttft"/.exec(stderr);
  return {
    transport: websockets ? "websocket" : "https",
    turnTtft: Number(turnTtft?.[1] ?? NaN),
    firstItem,
    wall,
    fellBack: /Falling back from WebSockets/i.test(stderr),
  };
}

/** @param {number[]} xs */
function summary(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

const stack = await startStack({ pat: PAT });
try {
  const put = await stack.admin("PUT", "/admin/providers/bench", {
    format: FORMAT,
    baseUrl: `${stack.emulator.url}/${FORMAT === "openai" ? "mlflow" : "anthropic"}`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  });
  if (put.status !== 200) throw new Error(`provider: ${JSON.stringify(put.json)}`);
  const key = /** @type {{ key: string }} */ (
    (await stack.admin("POST", "/admin/keys", { name: "ttft" })).json
  ).key;
  // One run each first, untimed: wrangler compiles and warms up on its first requests.
  await run(stack.gateway.url, key, true);
  await run(stack.gateway.url, key, false);
  /** @type {Sample[]} */
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    for (const websockets of [true, false]) samples.push(await run(stack.gateway.url, key, websockets));
  }
  console.log(`Codex CLI through the gateway (${FORMAT} provider, emulator upstream), ${RUNS} runs each, ms`);
  console.log("transport | turn TTFT      | first item       | wall");
  for (const transport of ["websocket", "https"]) {
    const mine = samples.filter((s) => s.transport === transport);
    const cell = (/** @type {number[]} */ xs) => {
      const s = summary(xs);
      return `${s.median.toFixed(0)} (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;
    };
    console.log(
      [
        transport.padEnd(9),
        cell(mine.map((s) => s.turnTtft)).padEnd(14),
        cell(mine.map((s) => s.firstItem)).padEnd(16),
        cell(mine.map((s) => s.wall)),
      ].join(" | "),
    );
    if (mine.some((s) => s.fellBack)) console.log(`  (${transport}: Codex fell back to HTTPS in some runs)`);
  }
  await mkdir(join(REPO_ROOT, ".bench"), { recursive: true });
  await writeFile(
    join(REPO_ROOT, ".bench", "codex-ttft.json"),
    JSON.stringify({ format: FORMAT, samples }, null, 2),
  );
} finally {
  await stack.stop();
}
