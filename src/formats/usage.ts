/** Token usage as the gateway counts it, whatever the wire format. */
export type Usage = {
  inputTokens: number;
  outputTokens: number;
  /** True when the upstream reported nothing and the numbers are the gateway's estimate. */
  estimated: boolean;
};

/** About four characters a token, the rule of thumb Databricks documents for its own estimates. */
export function estimateTokens(chars: number): number {
  return Math.max(0, Math.ceil(chars / 4));
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** Reads OpenAI's `usage` object (chat, completions, embeddings). */
export function fromOpenAiUsage(usage: unknown): Usage | null {
  if (typeof usage !== "object" || usage === null) return null;
  const u = usage as Record<string, unknown>;
  return { inputTokens: num(u.prompt_tokens), outputTokens: num(u.completion_tokens), estimated: false };
}

/** Reads Anthropic's `usage` object: all input, cached or not, counts as input. */
export function fromAnthropicUsage(usage: unknown): Usage | null {
  if (typeof usage !== "object" || usage === null) return null;
  const u = usage as Record<string, unknown>;
  return {
    inputTokens: num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens),
    outputTokens: num(u.output_tokens),
    estimated: false,
  };
}

/** Reads the `usage` field of a JSON response body, in either format. */
export function usageOfJson(text: string, format: "openai" | "anthropic"): Usage | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null) return null;
  const usage = (body as Record<string, unknown>).usage;
  return format === "openai" ? fromOpenAiUsage(usage) : fromAnthropicUsage(usage);
}
