#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:ab -- <checkout> [<checkout> …]`: the gateway built from each checkout (a directory
 * with its own wrangler.toml and src/, e.g. a `git worktree` of another commit with node_modules linked;
 * `.` is this one), beside the floor, in interleaved rounds of the same load, with the rate-limited key.
 * The answer to "did this change make the hot path faster?": on this noisy machine only rows measured
 * in the same rounds compare, so each round runs every target once, in turn, and the table prints the
 * median of each and its ratio to the floor and to the first checkout. The CPU per request includes what
 * a target's workerd still did after its load stopped (the call log's Queue consumer, batches sent late):
 * each target waits for its process to go quiet before the next one starts.
 *
 * Settings: BENCH_AB_SCENARIO (json or sse; default json), BENCH_STAGE_ROUNDS (rounds, default 3),
 * BENCH_STAGE_SECONDS (seconds per target and round, default 5), and bench/settings.mjs for the rest.
 */
import { basename, join, resolve } from "node:path";
import { adminClient, bundleWorker, serveBundle, stopAll } from "../tools/lib/stack.mjs";
import { percentile } from "./first-byte.mjs";
import { cpuSeconds, quiet, workerdPids } from "./processes.mjs";
import { load, warmUp } from "./load.mjs";
import { SCENARIOS, requestFor } from "./scenarios.mjs";
import { SETTINGS } from "./settings.mjs";
import { LIMITS, MODEL, PAT, floorTarget, startFloor } from "./targets.mjs";

const ADMIN_TOKEN = "bench-admin-token";

/**
 * Starts something that starts one workerd, and returns it with that process's pid.
 * @template T @param {() => Promise<T>} start
 */
async function withPid(start) {
  const before = await workerdPids();
  const started = await start();
  const fresh = [...(await workerdPids())].filter((p) => !before.has(p));
  if (fresh.length !== 1) throw new Error(`expected one new workerd process, found ${fresh.length}`);
  return { started, pid: /** @type {number} */ (fresh[0]) };
}

/** @param {number[]} xs */
const median = (xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * One checkout's gateway, served as the bench serves it, with a provider at the emulator and a key with
 * every limit but concurrency.
 * @param {string} dir @param {string} upstream
 */
async function startCheckout(dir, upstream) {
  const bundle = await bundleWorker({ configPath: join(dir, "wrangler.toml") });
  const served = await serveBundle(bundle, { vars: { ADMIN_TOKEN, DATABRICKS_PAT: PAT }, assets: false });
  const admin = adminClient(served.url, ADMIN_TOKEN);
  const provider = await admin("PUT", "/admin/providers/databricks", {
    format: "openai",
    baseUrl: `${upstream}/mlflow`,
    auth: { type: "bearer", secret: "DATABRICKS_PAT" },
  });
  const key = await admin("POST", "/admin/keys", { name: "ab", limits: LIMITS });
  if (provider.status !== 200 || key.status !== 201) {
    throw new Error(`${dir}: setup answered ${provider.status} and ${key.status}`);
  }
  return {
    name: basename(resolve(dir)),
    url: `${served.url}/v1/chat/completions`,
    headers: { authorization: `Bearer ${/** @type {{ key: string }} */ (key.json).key}` },
    model: `databricks/${MODEL}`,
    stop: async () => {
      await served.stop();
      await bundle.remove();
    },
  };
}

async function main() {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) throw new Error("usage: npm run bench:ab -- <checkout> [<checkout> …]");
  const scenarioName = process.env.BENCH_AB_SCENARIO || "json";
  const scenario = SCENARIOS.find((s) => s.name === scenarioName);
  if (!scenario) throw new Error(`BENCH_AB_SCENARIO: no scenario '${scenarioName}' (json or sse)`);
  const { stageRounds: rounds, stageSeconds: seconds } = SETTINGS;

  const { started: base, pid: floorPid } = await withPid(startFloor);
  try {
    const checkouts = [];
    for (const dir of dirs) {
      const { started, pid } = await withPid(() => startCheckout(dir, base.emulator.url));
      checkouts.push({ ...started, pid });
    }
    const targets = [{ ...floorTarget(base.floorUrl, "floor"), pid: floorPid }, ...checkouts];
    for (const t of targets) await warmUp(requestFor(scenario, t), 200);
    /** @type {Map<string, number[]>} */
    const rps = new Map(targets.map((t) => [t.name, []]));
    /** @type {Map<string, number[]>} */
    const cpu = new Map(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const before = await cpuSeconds(t.pid);
        const result = await load(requestFor(scenario, t), { ...SETTINGS, seconds });
        await quiet([t.pid]);
        const usPerRequest = (((await cpuSeconds(t.pid)) - before) * 1e6) / Math.max(1, result.requests);
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${t.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        rps.get(t.name)?.push(result.rps);
        cpu.get(t.name)?.push(usPerRequest);
        console.log(
          `  round ${round}: ${t.name} ${result.rps.toFixed(0)} req/s, ${usPerRequest.toFixed(0)} µs CPU/req`,
        );
      }
    }
    const floor = median(rps.get("floor") ?? []);
    const first = median(rps.get(checkouts[0]?.name ?? "") ?? []);
    const floorCpu = median(cpu.get("floor") ?? []);
    const firstCpu = median(cpu.get(checkouts[0]?.name ?? "") ?? []);
    console.log(`\n${scenario.name}, ${rounds} rounds x ${seconds} s, medians:`);
    for (const t of targets) {
      const m = median(rps.get(t.name) ?? []);
      const us = median(cpu.get(t.name) ?? []);
      console.log(
        `  ${t.name.padEnd(24)} ${m.toFixed(0).padStart(6)} req/s  ${(m / floor).toFixed(2)}x floor  ` +
          `${(m / first).toFixed(2)}x ${checkouts[0]?.name}   workerd CPU ${us.toFixed(0).padStart(5)} µs/req ` +
          `(floor +${(us - floorCpu).toFixed(0)}, ${(us - firstCpu >= 0 ? "+" : "") + (us - firstCpu).toFixed(0)} vs ${checkouts[0]?.name})`,
      );
    }
    for (const c of checkouts) await c.stop();
  } finally {
    await base.stop();
    await stopAll();
  }
}

await main();
