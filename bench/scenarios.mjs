// @ts-check
/**
 * Benchmark scenarios. Each one is sent with the same load to both targets (the emulator directly and
 * the gateway). Scenarios run in order; a `setup` (e.g. setting the key's limits) stays in effect after it.
 */

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {Record<string, unknown>} body the chat completion body, without `model`
 * @property {Record<string, string>} [headers] extra request headers (e.g. emulator faults)
 * @property {boolean} [firstByte] also measure time to the first body byte (streaming scenarios)
 * @property {(ctx: { admin: import("../tools/lib/stack.mjs").Stack["admin"], keyId: string }) => Promise<void>} [setup]
 *   runs once before the scenario (gateway configuration)
 */

const messages = [{ role: "user", content: "Benchmark request: say something short." }];

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    name: "json",
    description: "non-streaming chat completion",
    body: { messages, max_tokens: 64 },
  },
  {
    name: "stream",
    description: "streaming chat completion, 20 content chunks",
    body: { messages, stream: true },
    headers: { "x-emulator-fault": "chunks=20;chunk_bytes=16" },
    firstByte: true,
  },
  // The same two with every limit set on the key (high enough never to refuse), so the difference to the
  // rows above is the limiter's cost: sliding-window writes, a concurrency lease, budget bookkeeping.
  {
    name: "json+limits",
    description: "non-streaming, key with rpm, tpm, maxConcurrent and a budget",
    body: { messages, max_tokens: 64 },
    setup: setLimits,
  },
  {
    name: "stream+limits",
    description: "streaming, 20 chunks, key with rpm, tpm, maxConcurrent and a budget",
    body: { messages, stream: true },
    headers: { "x-emulator-fault": "chunks=20;chunk_bytes=16" },
    firstByte: true,
    setup: setLimits,
  },
];

/** @param {{ admin: import("../tools/lib/stack.mjs").Stack["admin"], keyId: string }} ctx */
async function setLimits({ admin, keyId }) {
  const limits = {
    rpm: 100_000_000,
    tpm: 1_000_000_000_000,
    maxConcurrent: 100_000,
    budget: { usd: 1_000_000, period: "day" },
  };
  const res = await admin("PATCH", `/admin/keys/${keyId}`, { limits });
  if (res.status !== 200) throw new Error(`setting limits: HTTP ${res.status} ${JSON.stringify(res.json)}`);
}
