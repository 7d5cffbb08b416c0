// @ts-check
/**
 * `npm run bench -- --stages`: what the passthrough SSE relay costs, piece by piece. The floor Worker
 * serves one variant per path (bench/floor/stages.ts): the floor, one decoding TransformStream (the
 * cheapest reading stage), one bare pull stream over the upstream body, and the gateway's passthrough
 * stage with more of its work switched on in each (frames found and decoded, frames read by the observer,
 * frames held so the usage chunk can be dropped), and the last two served as the gateway serves its
 * streams (piped into a native stream): `pull+pipe`, the least any relay that reads every byte costs, and
 * `passthrough:served`, the gateway's stage as shipped. Every variant gets the same streamed request (20
 * content chunks, usage asked for) under the same load, in several interleaved rounds; the median req/s
 * of each is compared with the floor's and with the variant it builds on.
 */
import { percentile } from "./first-byte.mjs";
import { load, warmUp } from "./load.mjs";
import { fmt, formatTable } from "./report.mjs";
import { STAGE_SCENARIO, requestFor } from "./scenarios.mjs";
import { SETTINGS } from "./settings.mjs";
import { runStageMicro } from "./stage-micro.mjs";
import { floorTarget, startFloor } from "./targets.mjs";

/**
 * The floor's paths, each with the variant it adds to (its cost is the difference). `decode` and `pull`
 * are both one stage on top of the floor; the passthrough's own stream is a pull stream.
 * @type {{ name: string, base: string | null }[]}
 */
export const VARIANTS = [
  { name: "floor", base: null },
  { name: "decode", base: "floor" },
  { name: "pull", base: "floor" },
  { name: "passthrough:frames", base: "pull" },
  { name: "passthrough:read", base: "passthrough:frames" },
  { name: "passthrough:read+drop", base: "passthrough:read" },
  { name: "pull+pipe", base: "pull" },
  { name: "passthrough:served", base: "passthrough:read+drop" },
];
const NAMES = VARIANTS.map((v) => v.name);

/** @param {number[]} xs */
const median = (xs) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * @param {() => boolean} stopping
 */
async function runWorkerdStages(stopping) {
  const { rounds, seconds } = { rounds: SETTINGS.stageRounds, seconds: SETTINGS.stageSeconds };
  console.log(
    `Stage costs: ${NAMES.length} floor variants x ${rounds} rounds x ${seconds} s, ` +
      `${SETTINGS.connections} connections, ${STAGE_SCENARIO.description}.`,
  );
  const base = await startFloor();
  try {
    const targets = NAMES.map((v) => ({ variant: v, target: floorTarget(base.floorUrl, v) }));
    for (const { target } of targets) await warmUp(requestFor(STAGE_SCENARIO, target));
    /** @type {Map<string, import("./load.mjs").LoadResult[]>} */
    const results = new Map(NAMES.map((v) => [v, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const { variant, target } of targets) {
        if (stopping()) return null;
        process.stdout.write(`  round ${round}: ${variant} …`);
        const result = await load(requestFor(STAGE_SCENARIO, target), { ...SETTINGS, seconds });
        results.get(variant)?.push(result);
        console.log(` ${result.rps.toFixed(0)} req/s`);
      }
    }
    const rows = NAMES.map((variant) => {
      const rs = results.get(variant) ?? [];
      return {
        scenario: STAGE_SCENARIO.name,
        target: variant,
        doDelayMs: 0,
        rps: median(rs.map((r) => r.rps)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        fbP50: null,
        fbP99: null,
        requests: rs.reduce((a, r) => a + r.requests, 0),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        doCalls: null,
        rounds: rs.map((r) => r.rps),
      };
    });
    const floor = rows[0];
    const lines = rows.map((row, i) => {
      const baseName = VARIANTS[i]?.base;
      const prev = rows.find((r) => r.target === baseName);
      const added = prev && row.rps > 0 && prev.rps > 0 ? 1000 / row.rps - 1000 / prev.rps : null;
      return [
        row.target,
        fmt(row.rps, 0),
        floor ? fmt(row.rps / floor.rps, 2) : "-",
        !prev ? "-" : `${fmt(added, 3)} (vs ${prev.target})`,
        fmt(row.p50),
        fmt(row.p99),
        row.rounds.map((r) => r.toFixed(0)).join(" / "),
        row.non2xx + row.errors > 0 ? `FLAGGED: ${row.non2xx} non-2xx, ${row.errors} errors` : "",
      ];
    });
    const table = formatTable(
      ["variant", "req/s", "x floor", "ms/request added", "p50 ms", "p99 ms", "req/s by round", ""],
      lines,
    );
    const note =
      "workerd: ms/request added: 1000/rps of the variant minus that of the one it adds to; with every connection " +
      "busy, 1/rps is the time one request holds the busiest resource (workerd's thread), so this is the " +
      "stage's cost per request (24 SSE frames). Medians of the rounds.";
    return { rows, table: `${table}\n${note}` };
  } finally {
    await base.stop();
  }
}

/**
 * The workerd variants under load, then the same stages in the Node microbenchmark.
 * @param {() => boolean} stopping
 */
export async function runStages(stopping) {
  const workerd = await runWorkerdStages(stopping);
  if (!workerd) return null;
  process.stdout.write("  the same stages in a Node microbenchmark …");
  const micro = await runStageMicro(VARIANTS, { rounds: 9, requests: 500 });
  console.log(" done");
  return {
    rows: workerd.rows,
    micro: micro.rows,
    table: `${workerd.table}\n\n${micro.table}\n${micro.note}`,
  };
}
