// @ts-check
/**
 * The printed table and the ratios of gateway to direct.
 */

/**
 * @typedef {object} Row
 * @property {string} scenario
 * @property {"direct" | "gateway"} target
 * @property {number} rps average requests per second
 * @property {number} p50 latency p50 (ms)
 * @property {number} p99 latency p99 (ms)
 * @property {number | null} fbP50 first-byte p50 (ms), streaming scenarios only
 * @property {number | null} fbP99 first-byte p99 (ms)
 * @property {number} non2xx responses that were not 2xx
 * @property {number} errors connection errors and timeouts
 */

/** @param {number | null} x @param {number} [digits] */
const fmt = (x, digits = 1) => (x === null || Number.isNaN(x) ? "-" : x.toFixed(digits));

/**
 * gateway / direct for a scenario: req/s, p50, p99, first-byte p50.
 * @param {Row} direct
 * @param {Row} gateway
 */
export function ratios(direct, gateway) {
  /** @param {number | null} g @param {number | null} d */
  const r = (g, d) => (g === null || d === null || d === 0 ? null : g / d);
  return {
    rps: r(gateway.rps, direct.rps),
    p50: r(gateway.p50, direct.p50),
    p99: r(gateway.p99, direct.p99),
    fbP50: r(gateway.fbP50, direct.fbP50),
  };
}

/**
 * @param {Row[]} rows
 * @returns {string}
 */
export function table(rows) {
  const header = [
    "scenario",
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "1st-byte p50",
    "1st-byte p99",
    "non-2xx",
    "errors",
    "gateway/direct",
  ];
  const lines = rows.map((row) => {
    let ratio = "";
    const direct = rows.find((d) => d.scenario === row.scenario && d.target === "direct");
    if (row.target === "gateway" && direct) {
      const q = ratios(direct, row);
      ratio = `req/s x${fmt(q.rps, 2)}, p50 x${fmt(q.p50, 2)}, p99 x${fmt(q.p99, 2)}`;
      if (q.fbP50 !== null) ratio += `, 1st-byte x${fmt(q.fbP50, 2)}`;
    }
    return [
      row.scenario,
      row.target,
      fmt(row.rps, 0),
      fmt(row.p50),
      fmt(row.p99),
      fmt(row.fbP50),
      fmt(row.fbP99),
      String(row.non2xx),
      String(row.errors),
      ratio,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  /** @param {string[]} cells */
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...lines.map(line)].join("\n");
}
