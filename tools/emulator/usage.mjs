// @ts-check
/**
 * Usage as each format reports it, from the emulator's own counts (about 4 characters a token) and the
 * fault's `cache_read`, `cache_write` and `reasoning` counts, so tests can see what a cached turn or a
 * reasoning model costs. Without those keys the shapes are the plain ones the emulator always sent.
 */

/** @typedef {import("./faults.mjs").Fault} Fault */

/**
 * OpenAI: cache reads and writes are part of `prompt_tokens`; the reads are named in
 * `prompt_tokens_details.cached_tokens` (the format has no count of writes). Reasoning is part of
 * `completion_tokens`, named in `completion_tokens_details.reasoning_tokens`.
 * @param {number} prompt uncached prompt tokens
 * @param {number} completion generated tokens other than reasoning
 * @param {Fault} fault
 */
export function openaiUsage(prompt, completion, fault) {
  const read = fault.cache_read ?? 0;
  const promptTokens = prompt + read + (fault.cache_write ?? 0);
  const completionTokens = completion + (fault.reasoning ?? 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    ...(fault.cache_read !== undefined || fault.cache_write !== undefined
      ? { prompt_tokens_details: { cached_tokens: read } }
      : {}),
    ...(fault.reasoning !== undefined
      ? { completion_tokens_details: { reasoning_tokens: fault.reasoning } }
      : {}),
  };
}

/**
 * Anthropic: `input_tokens` is the uncached rest, with `cache_creation_input_tokens` and
 * `cache_read_input_tokens` beside it. Thinking is counted in `output_tokens`, without a count of its own.
 * @param {number} input uncached input tokens
 * @param {number} output generated tokens other than reasoning
 * @param {Fault} fault
 */
export function anthropicUsage(input, output, fault) {
  return {
    input_tokens: input,
    output_tokens: output + (fault.reasoning ?? 0),
    cache_creation_input_tokens: fault.cache_write ?? 0,
    cache_read_input_tokens: fault.cache_read ?? 0,
  };
}
