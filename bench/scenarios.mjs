// @ts-check
/**
 * Benchmark scenarios. Each one is sent with the same load to both targets (the emulator directly and
 * the gateway). Add scenarios here (e.g. "with limits set": a `setup` that PATCHes the key's limits).
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
];
