// @ts-check
/**
 * The printed tables: every target's row with its ratios to the floor and to Portkey, the Durable Object
 * calls per request, and a flag on every row that saw a non-2xx answer or an error.
 */

/**
 * @typedef {object} Row
 * @property {string} scenario
 * @property {string} target
 * @property {number} doDelayMs delay added to every Durable Object call (0 but in the remote-DO rows)
 * @property {number} rps average requests per second
 * @property {number} p50 latency p50 (ms)
 * @property {number} p99 latency p99 (ms)
 * @property {number | null} fbP50 first-byte p50 (ms), of requests sent one at a time (no load)
 * @property {number | null} fbP99 first-byte p99 (ms)
 * @property {number} requests requests completed under load
 * @property {number} non2xx answers that were not 2xx, under load and among the first-byte requests (the
 *   warm-up's first answer must be 2xx or the run stops)
 * @property {number} errors connection errors and timeouts
 * @property {{ perRequest: number, byCall: Record<string, number> } | null} doCalls
 *   Durable Object calls per gateway request, counted by the bench's gateway entry
 */

/** @param {number | null | undefined} x @param {number} [digits] */
export const fmt = (x, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(digits);

/** @param {number | null} a @param {number | null} b */
export const ratio = (a, b) => (a === null || b === null || b === 0 ? null : a / b);

/** @param {Row} row */
export const flagged = (row) => row.non2xx > 0 || row.errors > 0;

/**
 * Columns padded to their widest cell.
 * @param {string[]} header
 * @param {string[][]} lines
 */
export function formatTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  /** @param {string[]} cells */
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...lines.map(line)].join("\n");
}

/**
 * Ratios of one row to the floor's and Portkey's rows of the same scenario.
 * @param {Row} row
 * @param {Row[]} rows
 */
export function ratios(row, rows) {
  const floor = rows.find((r) => r.scenario === row.scenario && r.target === "floor" && r.doDelayMs === 0);
  const portkey = rows.find((r) => r.scenario === row.scenario && r.target === "portkey");
  return {
    rpsOverFloor: floor ? ratio(row.rps, floor.rps) : null,
    rpsOverPortkey: portkey ? ratio(row.rps, portkey.rps) : null,
    fbOverFloor: floor ? ratio(row.fbP50, floor.fbP50) : null,
  };
}

/** @param {Row[]} rows */
export function mainTable(rows) {
  const header = [
    "scenario",
    "target",
    "req/s",
    "x floor",
    "x portkey",
    "p50 ms",
    "p99 ms",
    "1st-byte p50",
    "1st-byte p99",
    "1st-byte x floor",
    "DO calls/req",
    "non-2xx",
    "errors",
    "",
  ];
  const lines = rows.map((row) => {
    const q = ratios(row, rows);
    return [
      row.scenario,
      row.doDelayMs > 0 ? `${row.target} (DO +${row.doDelayMs} ms)` : row.target,
      fmt(row.rps, 0),
      fmt(q.rpsOverFloor, 2),
      fmt(q.rpsOverPortkey, 2),
      fmt(row.p50),
      fmt(row.p99),
      fmt(row.fbP50),
      fmt(row.fbP99),
      fmt(q.fbOverFloor, 2),
      row.doCalls ? fmt(row.doCalls.perRequest, 2) : "-",
      String(row.non2xx),
      String(row.errors),
      flagged(row) ? "FLAGGED" : "",
    ];
  });
  return formatTable(header, lines);
}

/**
 * Which Durable Object calls a request makes, per target and scenario.
 * @param {Row[]} rows
 */
export function doCallLines(rows) {
  return rows
    .filter((r) => r.doCalls && r.doDelayMs === 0)
    .map((r) => {
      const calls = /** @type {NonNullable<Row["doCalls"]>} */ (r.doCalls);
      const parts = Object.entries(calls.byCall)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name} ${fmt(n, 2)}`);
      return `  ${r.target} ${r.scenario}: ${fmt(calls.perRequest, 2)} per request (${parts.join(", ") || "none"})`;
    })
    .join("\n");
}

/**
 * The gateway's rows with and without the delay on every Durable Object call. Under load, latency follows
 * throughput (the delay overlaps other requests' work), so the sequential first-byte time is what shows
 * it: its growth divided by the delay is how many calls a request waits for one after another before its
 * first byte.
 * @param {Row[]} rows
 */
export function remoteDoTable(rows) {
  const delayed = rows.filter((r) => r.doDelayMs > 0);
  const lines = delayed.map((d) => {
    const base = rows.find((r) => r.scenario === d.scenario && r.target === d.target && r.doDelayMs === 0);
    const waits =
      base && d.fbP50 !== null && base.fbP50 !== null ? (d.fbP50 - base.fbP50) / d.doDelayMs : null;
    return [
      d.scenario,
      d.target,
      fmt(base?.rps ?? null, 0),
      fmt(d.rps, 0),
      fmt(base?.fbP50 ?? null),
      fmt(d.fbP50),
      fmt(waits, 1),
      flagged(d) ? "FLAGGED" : "",
    ];
  });
  const delay = delayed[0]?.doDelayMs ?? 0;
  return formatTable(
    [
      "scenario",
      "target",
      "req/s",
      `req/s, DO +${delay} ms`,
      "1st-byte p50",
      `1st-byte p50, DO +${delay} ms`,
      "serial DO waits",
      "",
    ],
    lines,
  );
}
