// @ts-check
/**
 * The bench's settings, from the environment (documented in README.md, Benchmark).
 */

/** @param {string} name @param {number} fallback @param {number} [min] */
export function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
  }
  return value;
}

const connections = intEnv("BENCH_CONNECTIONS", 20);

export const SETTINGS = {
  /** Per scenario, target and round. */
  seconds: intEnv("BENCH_SECONDS", 4),
  /** Interleaved rounds per scenario: each loads every target once; a row keeps its median round. */
  rounds: intEnv("BENCH_ROUNDS", 3),
  connections,
  /** autocannon worker threads, so the load generator does not share the emulator's event loop. */
  workers: Math.min(intEnv("BENCH_WORKERS", 2), connections),
  /** Sequential streamed requests per target for the first-byte times. */
  firstByteRequests: intEnv("BENCH_FIRST_BYTE_N", 200),
  /** Delay on every Durable Object call in the remote-DO rows; 0 skips them. */
  doDelayMs: intEnv("BENCH_DO_DELAY_MS", 20, 0),
  /** MB of content in the large-stream check; 0 skips it. */
  bigStreamMb: intEnv("BENCH_BIG_STREAM_MB", 100, 0),
  /** Fresh starts per bundle in the cold-start measurement; 0 skips it in the full run. */
  coldStarts: intEnv("BENCH_COLD_N", 10, 0),
  /** Stage-cost run: rounds over every variant, and seconds per variant and round. */
  stageRounds: intEnv("BENCH_STAGE_ROUNDS", 3),
  stageSeconds: intEnv("BENCH_STAGE_SECONDS", 5),
  /** Comma-separated scenario and target names to keep (default: all). */
  scenarios: listEnv("BENCH_SCENARIOS"),
  targets: listEnv("BENCH_TARGETS"),
};

/** @param {string} name */
function listEnv(name) {
  const raw = process.env[name];
  return raw
    ? raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
}
