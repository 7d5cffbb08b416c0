// @ts-check
/**
 * One target under load: a short sequential warm-up, then autocannon.
 */
import autocannon from "autocannon";

/**
 * @typedef {object} Request
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string} body
 */

/**
 * @typedef {object} LoadResult
 * @property {number} rps average requests per second
 * @property {number} p50 latency p50 (ms)
 * @property {number} p99 latency p99 (ms)
 * @property {number} requests requests completed
 * @property {number} non2xx responses that were not 2xx
 * @property {number} errors connection errors and timeouts
 */

/**
 * @param {Request} request
 * @param {{ seconds: number, connections: number, workers: number }} settings
 * @returns {Promise<LoadResult>}
 */
export async function load(request, { seconds, connections, workers }) {
  const result = await autocannon({
    url: request.url,
    method: "POST",
    headers: request.headers,
    body: request.body,
    connections,
    duration: seconds,
    workers,
  });
  return {
    rps: Number(result.requests.average),
    p50: Number(result.latency.p50),
    p99: Number(result.latency.p99),
    requests: Number(result["2xx"]) + Number(result.non2xx),
    non2xx: Number(result.non2xx),
    errors: Number(result.errors) + Number(result.timeouts),
  };
}

/**
 * A few sequential requests, so connections are open and the runtime has compiled the hot path. The first
 * must succeed: a target that cannot answer is a setup error, not a row of the table.
 * @param {Request} request
 * @param {number} [n]
 */
export async function warmUp(request, n = 20) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
    const text = await res.text();
    if (i === 0 && !res.ok) {
      throw new Error(`warm-up request to ${request.url} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
  }
}
