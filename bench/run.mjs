#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench`: Bricklane beside its floor and its peer, in one run, on loopback.
 *
 *   npm run bench                  the comparison (JSON and SSE; every target), the remote-DO rows, the
 *                                  large stream, the bundle size and the cold start
 *   npm run bench -- --stages      stage costs of today's passthrough SSE relay (bench/stages.mjs)
 *   npm run bench -- --cold-start  only the cold start and the bundle size (bench/cold-start.mjs)
 *
 * Settings: bench/settings.mjs (BENCH_* variables). Results: printed, and written to .bench/results.json
 * (or .bench/stages.json, .bench/cold-start.json).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT, stopAll } from "../tools/lib/stack.mjs";
import { bigStream } from "./big-stream.mjs";
import { measureColdStart, coldStartTable } from "./cold-start.mjs";
import { measureFirstBytes, percentile } from "./first-byte.mjs";
import { quiet, workerdPids } from "./processes.mjs";
import { load, warmUp } from "./load.mjs";
import { doCallLines, flagged, mainTable, remoteDoTable } from "./report.mjs";
import { SCENARIOS, requestFor } from "./scenarios.mjs";
import { SETTINGS } from "./settings.mjs";
import { bundleSize, sizeLine } from "./size.mjs";
import { runStages } from "./stages.mjs";
import { startAll } from "./targets.mjs";

/** @typedef {import("./report.mjs").Row} Row */
/** @typedef {import("./targets.mjs").Target} Target */
/** @typedef {import("./scenarios.mjs").Scenario} Scenario */

const NOTE = [
  "Every Worker (the floor, its variants, Bricklane) is bundled as `wrangler deploy` would and served by",
  "workerd through Miniflare, with local KV and Durable Objects; Portkey runs on Node. Load generator,",
  "emulator and every target share this machine's CPUs: compare rows of one run (the ratios), not",
  "absolute numbers across runs or with the edge.",
].join("\n");

let stopping = false;
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.once(signal, () => {
    stopping = true;
    console.error(`\nbench: ${signal}, stopping`);
    void stopAll().then(() => process.exit(130));
  });
}

/** @param {string} name @param {unknown} data */
async function save(name, data) {
  const dir = join(REPO_ROOT, ".bench");
  await mkdir(dir, { recursive: true });
  const out = join(dir, name);
  const meta = { date: new Date().toISOString(), node: process.version, settings: SETTINGS, note: NOTE };
  await writeFile(out, `${JSON.stringify({ ...meta, .../** @type {object} */ (data) }, null, 2)}\n`);
  return out;
}

/** The median of the rounds, one of them (nearest rank), so the round that gave it can be kept. @param {number[]} xs */
const median = (xs) =>
  percentile(
    [...xs].sort((x, y) => x - y),
    50,
  );

/**
 * One scenario's rows: every target warmed up, then loaded in interleaved rounds (each round loads every
 * target once, in turn), so that a slow spell of this shared machine falls on every target instead of on
 * whichever ran then; a row keeps the round with its median req/s (latencies from the same round) and the
 * errors of all. Then, once every workerd has gone quiet, the first-byte times of requests sent one at a
 * time, in blocks, to each target in turn (so a slow spell falls on every target alike here too: see
 * ./first-byte.mjs), and the Durable Object calls its rounds made (counted targets only).
 * @param {Scenario} scenario
 * @param {Target[]} targets
 * @param {{ doDelayMs: number, stats: () => Promise<import("./targets.mjs").DoStats> }} ctx
 * @returns {Promise<Row[] | null>}
 */
async function measureScenario(scenario, targets, { doDelayMs, stats }) {
  const label = (/** @type {Target} */ t) => (doDelayMs > 0 ? `${t.name} (DO +${doDelayMs} ms)` : t.name);
  for (const target of targets) await warmUp(requestFor(scenario, target));
  /** @type {Map<Target, import("./load.mjs").LoadResult[]>} */
  const results = new Map(targets.map((t) => [t, []]));
  /** @type {Map<Target, { requests: number, calls: Record<string, number> }>} */
  const doCalls = new Map(targets.map((t) => [t, { requests: 0, calls: {} }]));
  for (let round = 1; round <= SETTINGS.rounds; round++) {
    for (const target of targets) {
      if (stopping) return null;
      process.stdout.write(
        `  ${scenario.name} → ${label(target)}, round ${round}/${SETTINGS.rounds}: load …`,
      );
      const before = target.counted ? await stats() : null;
      const result = await load(requestFor(scenario, target), SETTINGS);
      if (before) addDoCalls(doCalls.get(target), before, await stats());
      results.get(target)?.push(result);
      process.stdout.write(` ${result.rps.toFixed(0)} req/s\n`);
    }
  }
  /** @type {Row[]} */
  const rows = [];
  for (const target of targets) {
    const rounds = results.get(target) ?? [];
    const mid = median(rounds.map((r) => r.rps));
    const kept = rounds.find((r) => r.rps === mid) ?? rounds[0];
    if (!kept) continue;
    /** @type {Row} */
    const row = {
      scenario: scenario.name,
      target: target.name,
      doDelayMs,
      ...kept,
      requests: rounds.reduce((n, r) => n + r.requests, 0),
      non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
      errors: rounds.reduce((n, r) => n + r.errors, 0),
      fbP50: null,
      fbP99: null,
      doCalls: target.counted ? perRequest(doCalls.get(target)) : null,
    };
    rows.push(row);
  }
  if (scenario.firstByte) {
    if (stopping) return null;
    // Without load means without the work the last load left behind, too (the gateway's call-log
    // consumer and batches), which would slow every target's first bytes.
    await quiet([...(await workerdPids())]);
    process.stdout.write(
      `  ${scenario.name}: first byte, ${SETTINGS.firstByteRequests} requests to each target, in blocks, each target in turn …`,
    );
    const times = await measureFirstBytes(
      targets.map((t) => requestFor(scenario, t)),
      SETTINGS.firstByteRequests,
    );
    process.stdout.write("\n");
    for (const [i, target] of targets.entries()) {
      const fb = times[i];
      const row = rows.find((r) => r.target === target.name);
      if (!fb || !row) continue;
      row.fbP50 = fb.p50;
      row.fbP99 = fb.p99;
      row.non2xx += fb.non2xx;
      row.errors += fb.errors;
      console.log(`  ${scenario.name} → ${label(target)}: first byte p50 ${fb.p50.toFixed(1)} ms`);
    }
  }
  for (const row of rows) {
    if (flagged(row)) console.log(`  FLAGGED ${row.target}: ${row.non2xx} non-2xx, ${row.errors} errors`);
  }
  return rows;
}

/**
 * Adds the Durable Object calls between two snapshots of the gateway entry's counters to a target's sum.
 * @param {{ requests: number, calls: Record<string, number> } | undefined} sum
 * @param {import("./targets.mjs").DoStats} before
 * @param {import("./targets.mjs").DoStats} after
 */
function addDoCalls(sum, before, after) {
  if (!sum) return;
  sum.requests += after.completed - before.completed;
  for (const [name, n] of Object.entries(after.calls)) {
    const delta = n - (before.calls[name] ?? 0);
    if (delta !== 0) sum.calls[name] = (sum.calls[name] ?? 0) + delta;
  }
}

/**
 * Durable Object calls per gateway request, in all and by call.
 * @param {{ requests: number, calls: Record<string, number> } | undefined} sum
 */
function perRequest(sum) {
  if (!sum || sum.requests === 0) return { perRequest: 0, byCall: {} };
  /** @type {Record<string, number>} */
  const byCall = {};
  let total = 0;
  for (const [name, n] of Object.entries(sum.calls)) {
    byCall[name] = n / sum.requests;
    total += n;
  }
  return { perRequest: total / sum.requests, byCall };
}

async function comparison() {
  const scenarios = SETTINGS.scenarios
    ? SCENARIOS.filter((s) => SETTINGS.scenarios?.includes(s.name))
    : SCENARIOS;
  if (scenarios.length === 0)
    throw new Error(`no scenario matches BENCH_SCENARIOS (${SCENARIOS.map((s) => s.name)})`);
  console.log(
    `Bricklane bench: ${scenarios.map((s) => s.name).join(", ")}; ${SETTINGS.rounds} interleaved rounds of ` +
      `${SETTINGS.seconds} s x ${SETTINGS.connections} connections (${SETTINGS.workers} autocannon workers) ` +
      `per scenario and target, the median round kept; ` +
      `${SETTINGS.firstByteRequests} first-byte requests per target, one at a time, in interleaved blocks.`,
  );
  console.log("Starting the emulator, the floor, Portkey and Bricklane on 127.0.0.1 …");
  const stack = await startAll();
  const targets = SETTINGS.targets
    ? stack.targets.filter((t) => SETTINGS.targets?.includes(t.name))
    : stack.targets;
  /** @type {Row[]} */
  const rows = [];
  for (const scenario of scenarios) {
    const measured = await measureScenario(scenario, targets, { doDelayMs: 0, stats: stack.stats });
    if (!measured) return null;
    rows.push(...measured);
  }
  // The same calls with every Durable Object call delayed, as if the objects lived in another location.
  const counted = targets.filter((t) => t.counted);
  if (SETTINGS.doDelayMs > 0 && counted.length > 0) {
    await stack.setDoDelay(SETTINGS.doDelayMs);
    for (const scenario of scenarios) {
      const measured = await measureScenario(scenario, counted, {
        doDelayMs: SETTINGS.doDelayMs,
        stats: stack.stats,
      });
      if (!measured) return null;
      rows.push(...measured);
    }
    await stack.setDoDelay(0);
  }

  /** @type {Awaited<ReturnType<typeof bigStream>> | null} */
  let big = null;
  const gateway = stack.targets.find((t) => t.name === "bricklane");
  if (SETTINGS.bigStreamMb > 0 && gateway && !stopping) {
    // 1000-character chunks; the client does not ask for usage, so the gateway reads every frame and
    // re-encodes them to drop the usage chunk (the heavier of its two passthrough paths).
    const chunks = Math.round((SETTINGS.bigStreamMb * 1_000_000) / 1000);
    process.stdout.write(`  large stream: ${SETTINGS.bigStreamMb} MB of content through Bricklane …`);
    const request = requestFor(
      {
        name: "big",
        description: `${SETTINGS.bigStreamMb} MB streamed`,
        body: { messages: [{ role: "user", content: "big" }], stream: true },
        headers: { "x-emulator-fault": `chunks=${chunks};chunk_bytes=1000` },
      },
      gateway,
    );
    big = await bigStream({ ...request, megabytes: SETTINGS.bigStreamMb });
    console.log(" done");
  }
  // Requests whose after-response work (usage, the call log) never finished: nothing is in flight now.
  const final = targets.some((t) => t.counted) ? await stack.stats() : null;
  const unfinished = final
    ? { neverReturned: final.started - final.returned, waitUntilNeverDone: final.returned - final.completed }
    : null;
  await stack.stop();
  return { rows, big, unfinished };
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--stages" && a !== "--cold-start");
  if (unknown.length > 0)
    throw new Error(`unknown argument(s): ${unknown.join(" ")} (try --stages, --cold-start)`);

  if (args.includes("--stages")) {
    const stages = await runStages(() => stopping);
    if (!stages) return 130;
    console.log(`\n${stages.table}`);
    console.log(
      `\nResults written to ${await save("stages.json", { stages: stages.rows, micro: stages.micro })}`,
    );
    return stages.rows.some(flagged) ? 2 : 0;
  }

  if (args.includes("--cold-start")) {
    const size = await bundleSize();
    console.log(sizeLine(size));
    const cold = await measureColdStart(SETTINGS.coldStarts || 10);
    console.log(`\n${coldStartTable(cold)}\n\n${cold.note}`);
    console.log(`\nResults written to ${await save("cold-start.json", { bundle: size, coldStart: cold })}`);
    return 0;
  }

  const compared = await comparison();
  if (!compared) return 130;
  const { rows, big, unfinished } = compared;
  const size = await bundleSize();
  const cold = SETTINGS.coldStarts > 0 ? await measureColdStart(SETTINGS.coldStarts) : null;

  console.log(`\n${mainTable(rows.filter((r) => r.doDelayMs === 0))}`);
  console.log(
    `\nDurable Object calls per request (counted by bench/gateway-entry.ts):\n${doCallLines(rows)}`,
  );
  if (unfinished !== null) {
    console.log(
      `  gateway requests whose handler never returned (abandoned when the client left): ${unfinished.neverReturned}; ` +
        `whose waitUntil work never finished: ${unfinished.waitUntilNeverDone}`,
    );
  }
  if (rows.some((r) => r.doDelayMs > 0)) {
    console.log(
      `\nRemote Durable Objects: every DO call delayed by ${SETTINGS.doDelayMs} ms, as a call to another location ` +
        `would be ("serial DO waits": first-byte growth / delay).\n${remoteDoTable(rows)}`,
    );
  }
  if (big) {
    console.log(
      `\nLarge stream: ${(big.bytes / 1e6).toFixed(0)} MB in ${big.seconds.toFixed(1)} s ` +
        `(${(big.bytes / 1e6 / big.seconds).toFixed(0)} MB/s); workerd RSS ${big.rssBeforeMiB.toFixed(0)} MiB before, ` +
        `${big.rssPeakMiB.toFixed(0)} MiB at most while streaming.`,
    );
  }
  console.log(`\n${sizeLine(size)}`);
  if (cold) console.log(`\n${coldStartTable(cold)}\n${cold.note}`);
  console.log(`\n${NOTE}`);
  const out = await save("results.json", { rows, unfinished, bigStream: big, bundle: size, coldStart: cold });
  console.log(`\nResults written to ${out}`);
  const bad = rows.filter(flagged);
  if (bad.length > 0) {
    console.error(
      `\nFLAGGED: ${bad.length} row(s) had non-2xx answers or errors, so their numbers do not measure ` +
        `successful calls: ${bad.map((r) => `${r.scenario}/${r.target}${r.doDelayMs ? ` (DO +${r.doDelayMs} ms)` : ""}`).join(", ")}`,
    );
    return 2;
  }
  return 0;
}

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (err) => {
    if (stopping) return;
    console.error(`\nbench failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
