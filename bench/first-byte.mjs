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
 * @param {{ url: string, headers: Record<string, string>, body: string, n: number }} options
 * @returns {Promise<{ n: number, p50: number, p99: number, mean: number, non2xx: number, errors: number }>}
 */
export async function measureFirstByte({ url, headers, body, n }) {
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
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / (samples.length || 1);
  return { n, p50: percentile(samples, 50), p99: percentile(samples, 99), mean, non2xx, errors };
}
