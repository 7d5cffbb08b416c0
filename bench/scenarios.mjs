// @ts-check
/**
 * The requests the bench sends, the same to every target (only `model` and the credentials differ).
 */

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {Record<string, unknown>} body the chat completion body, without `model`
 * @property {Record<string, string>} [headers] extra request headers (emulator faults)
 * @property {boolean} [firstByte] also measure time to the first body byte of requests sent one at a time
 *   (latency without load; for a JSON answer, about the whole answer)
 */

const messages = [{ role: "user", content: "Benchmark request: say something short." }];
const TWENTY_CHUNKS = { "x-emulator-fault": "chunks=20;chunk_bytes=16" };

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    name: "json",
    description: "non-streamed chat completion",
    body: { messages, max_tokens: 64 },
    firstByte: true,
  },
  {
    name: "sse",
    description: "streamed chat completion, 20 content chunks",
    body: { messages, stream: true },
    headers: TWENTY_CHUNKS,
    firstByte: true,
  },
];

/**
 * The stage-cost run's request: streamed, and asking for usage, so every variant's upstream sends the same
 * bytes (the usage chunk included) and the re-encoding variant has a chunk to drop, as the gateway does
 * when it asked for usage on the client's behalf.
 * @type {Scenario}
 */
export const STAGE_SCENARIO = {
  name: "sse+usage",
  description: "streamed, 20 content chunks, stream_options.include_usage",
  body: { messages, stream: true, stream_options: { include_usage: true } },
  headers: TWENTY_CHUNKS,
};

/**
 * @param {Scenario} scenario
 * @param {{ url: string, headers: Record<string, string>, model: string }} target
 * @returns {import("./load.mjs").Request}
 */
export function requestFor(scenario, target) {
  return {
    url: target.url,
    headers: { "content-type": "application/json", ...target.headers, ...scenario.headers },
    body: JSON.stringify({ model: target.model, ...scenario.body }),
  };
}
