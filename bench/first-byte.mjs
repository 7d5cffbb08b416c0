// @ts-check
/**
 * Time to the first body byte of requests sent one at a time with fetch, to every target in turn.
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

/** @typedef {{ url: string, headers: Record<string, string>, body: string }} Request */
/** @typedef {{ n: number, p50: number, p99: number, mean: number, non2xx: number, errors: number }} FirstByte */

/**
 * One request, its body read to the end (so the connection is reused); the milliseconds to its first
 * body byte, or why there are none.
 * @param {Request} request
 * @returns {Promise<number | "non2xx" | "error">}
 */
async function timeOne({ url, headers, body }) {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { method: "POST", headers, body });
    if (!res.ok || !res.body) {
      await res.arrayBuffer();
      return "non2xx";
    }
    const reader = res.body.getReader();
    let first = await reader.read();
    while (!first.done && first.value.length === 0) first = await reader.read();
    const ms = performance.now() - t0;
    while (!(await reader.read()).done) {
      // drain, so the connection is reused
    }
    return ms;
  } catch {
    return "error";
  }
}

/** Timed requests a target gets in a row, after one untimed one. */
const BLOCK = 10;

/**
 * `n` requests to each target, one at a time, interleaved in blocks: each round sends every target, in
 * turn, one untimed request and then `BLOCK` timed ones. Interleaved, so that a slow spell of this shared
 * machine falls on every target alike instead of on whichever was measured then; in blocks, with the
 * first request untimed, because a process that has just waited through the other targets' requests
 * answers its next one slower (one request to each target in turn put the floor's SSE first byte at
 * 3.5 ms in a full run, 1.5–1.6 ms before). Results in the order of `requests`.
 * @param {Request[]} requests
 * @param {number} n
 * @returns {Promise<FirstByte[]>}
 */
export async function measureFirstBytes(requests, n) {
  const results = requests.map(() => ({ samples: /** @type {number[]} */ ([]), non2xx: 0, errors: 0 }));
  for (let done = 0; done < n; done += BLOCK) {
    for (const [t, request] of requests.entries()) {
      const result = /** @type {(typeof results)[number]} */ (results[t]);
      await timeOne(request);
      for (let i = 0; i < Math.min(BLOCK, n - done); i++) {
        const outcome = await timeOne(request);
        if (outcome === "non2xx") result.non2xx++;
        else if (outcome === "error") result.errors++;
        else result.samples.push(outcome);
      }
    }
  }
  return results.map(({ samples, non2xx, errors }) => {
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((s, x) => s + x, 0) / (samples.length || 1);
    return { n, p50: percentile(samples, 50), p99: percentile(samples, 99), mean, non2xx, errors };
  });
}
