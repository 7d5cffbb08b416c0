import type { ResponseUsageOut } from "./responses/types";
import { isRecord } from "./sse";
import type { AntUsageOut, OaiUsage } from "./translate/types";

/**
 * Token usage as the gateway counts it, whatever the wire format: totals with their parts, as OpenAI and
 * OpenTelemetry count. `inputTokens` is every input token, cached or not; the cache reads and writes are
 * parts of it (priced apart). `reasoningTokens` is part of `outputTokens` (billed as output). Anthropic
 * reports the input parts side by side instead (its `input_tokens` is only the uncached rest): the
 * Anthropic reader adds them up, here and nowhere else.
 */
export type Usage = {
  inputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  cacheReadTokens: number;
  /** The part of `inputTokens` written to the provider's prompt cache. */
  cacheWriteTokens: number;
  outputTokens: number;
  /** The part of `outputTokens` spent on reasoning (thinking). */
  reasoningTokens: number;
  /** True when the upstream reported nothing and the numbers are the gateway's estimate. */
  estimated: boolean;
};

/** A call that generated nothing and read nothing (a count_tokens call, a warm-up). */
export const NO_TOKENS: Usage = {
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  estimated: false,
};

/** Input tokens neither read from nor written to the cache: billed at the plain input price. */
export function uncachedInputTokens(u: Usage): number {
  return Math.max(0, u.inputTokens - u.cacheReadTokens - u.cacheWriteTokens);
}

/** About four characters a token, the rule of thumb Databricks documents for its own estimates. */
export function estimateTokens(chars: number): number {
  return Math.max(0, Math.ceil(chars / 4));
}

/** The estimate for a call whose upstream reported no usage: nothing is known to be cached. */
export function estimatedUsage(inputChars: number, outputChars: number): Usage {
  return {
    ...NO_TOKENS,
    inputTokens: estimateTokens(inputChars),
    outputTokens: estimateTokens(outputChars),
    estimated: true,
  };
}

const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** A part is never larger than its total, whatever an upstream claims. */
function parts(input: number, read: number, write: number, output: number, reasoning: number): Usage {
  const cacheReadTokens = Math.min(read, input);
  return {
    inputTokens: input,
    cacheReadTokens,
    cacheWriteTokens: Math.min(write, input - cacheReadTokens),
    outputTokens: output,
    reasoningTokens: Math.min(reasoning, output),
    estimated: false,
  };
}

/**
 * OpenAI's `usage` (chat, text completions, embeddings): `prompt_tokens` includes the cache reads
 * (`prompt_tokens_details.cached_tokens`); the format has no count of cache writes, so they stay in the
 * uncached rest. `completion_tokens` includes `completion_tokens_details.reasoning_tokens`.
 */
export function fromOpenAiUsage(usage: unknown): Usage | null {
  if (!isRecord(usage)) return null;
  const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  return parts(
    count(usage.prompt_tokens),
    count(prompt.cached_tokens),
    0,
    count(usage.completion_tokens),
    count(completion.reasoning_tokens),
  );
}

/**
 * Anthropic's `usage`: `input_tokens` is only the uncached input; `cache_creation_input_tokens` and
 * `cache_read_input_tokens` come beside it, so all input is their sum. Thinking is in `output_tokens`,
 * with no count of its own.
 */
export function fromAnthropicUsage(usage: unknown): Usage | null {
  if (!isRecord(usage)) return null;
  const uncached = count(usage.input_tokens);
  const write = count(usage.cache_creation_input_tokens);
  const read = count(usage.cache_read_input_tokens);
  return parts(uncached + write + read, read, write, count(usage.output_tokens), 0);
}

/**
 * Anthropic streams report usage in `message_start` and again, as running totals, in `message_delta`
 * (some upstreams repeat the input counts there, some leave counters out, some send zeros for them). Each
 * counter only grows, so the largest value seen is the current one.
 */
export function anthropicStreamUsage(): { add(usage: unknown): void; readonly usage: Usage | null } {
  const counters = new Map<string, number>();
  let seen = false;
  return {
    add(usage) {
      if (!isRecord(usage)) return;
      seen = true;
      for (const [name, value] of Object.entries(usage)) {
        if (typeof value === "number") counters.set(name, Math.max(counters.get(name) ?? 0, count(value)));
      }
    },
    get usage() {
      return seen ? fromAnthropicUsage(Object.fromEntries(counters)) : null;
    },
  };
}

/** Reads the `usage` field of a JSON response body in the upstream's own format (passthrough). */
export function usageOfJson(text: string, format: "openai" | "anthropic"): Usage | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(body)) return null;
  return format === "openai" ? fromOpenAiUsage(body.usage) : fromAnthropicUsage(body.usage);
}

/**
 * Usage as OpenAI's chat and text completions report it (what a translated answer carries). The
 * reasoning count only when there is one: Anthropic counts thinking in its output without saying how
 * much, and a 0 would claim there was none.
 */
export function toOpenAiUsage(u: Usage): OaiUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens },
    ...(u.reasoningTokens > 0 && { completion_tokens_details: { reasoning_tokens: u.reasoningTokens } }),
  };
}

/** Usage as Anthropic reports it: the uncached rest, and the cache's reads and writes beside it. */
export function toAnthropicUsage(u: Usage): AntUsageOut {
  return {
    input_tokens: uncachedInputTokens(u),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cacheReadTokens,
  };
}

/** Usage as the Responses API reports it (totals, with the cache reads and reasoning as details). */
export function toResponsesUsage(u: Usage): ResponseUsageOut {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}
