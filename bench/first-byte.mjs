// @ts-check
/**
 * Time to the first body byte of streamed requests, sent one after another with fetch.
 */

/**
 * Nearest-rank percentile of an ascending array.
 * @param {number[]} sorted
 * @param {number} p 0..100
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return /** @type {number} */ (sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]);
}

/**
 * @typedef {{ samples: number[], non2xx: number, errors: number }} FirstByteSamples
 *   samples: milliseconds to the first body byte of each request that succeeded, in the order sent
 */

/**
 * @param {{ url: string, headers: Record<string, string>, body: string, n: number }} options
 * @returns {Promise<FirstByteSamples>}
 */
export async function firstByteSamples({ url, headers, body, n }) {
  /** @type {number[]} */
  const samples = [];
  let non2xx = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { method: "POST", headers, body });
      if (!res.ok || !res.body) {
        non2xx++;
        await res.arrayBuffer();
        continue;
      }
      const reader = res.body.getReader();
      let first = await reader.read();
      while (!first.done && first.value.length === 0) first = await reader.read();
      samples.push(performance.now() - t0);
      while (!(await reader.read()).done) {
        // drain, so the connection is reused
      }
    } catch {
      errors++;
    }
  }
  return { samples, non2xx, errors };
}

/**
 * @param {FirstByteSamples} measured
 * @returns {{ n: number, p50: number, p99: number, mean: number, non2xx: number, errors: number }}
 */
export function firstByteSummary({ samples, non2xx, errors }) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, x) => s + x, 0) / (sorted.length || 1);
  return {
    n: sorted.length + non2xx + errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean,
    non2xx,
    errors,
  };
}
