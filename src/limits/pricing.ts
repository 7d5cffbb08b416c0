import type { ModelPrice, Provider } from "../config/schemas";
import { uncachedInputTokens, type Usage } from "../formats/usage";

/**
 * What a call costs in USD, from its model's per-million-token prices, as providers bill it: uncached
 * input at `inputPerMTok`, cache reads at `cacheReadPerMTok`, cache writes at `cacheWritePerMTok`, output
 * (reasoning included) at `outputPerMTok`. A cache price left out is the input price: never less than the
 * bill. A model without a price costs 0.
 */
export function costUsd(price: ModelPrice | undefined, usage: Usage | null): number {
  if (!price || !usage) return 0;
  const read = price.cacheReadPerMTok ?? price.inputPerMTok;
  const write = price.cacheWritePerMTok ?? price.inputPerMTok;
  return (
    (uncachedInputTokens(usage) * price.inputPerMTok +
      usage.cacheReadTokens * read +
      usage.cacheWriteTokens * write +
      usage.outputTokens * price.outputPerMTok) /
    1_000_000
  );
}

/**
 * The admin API's warning for a provider whose prices leave out what cached tokens cost: they are then
 * priced as input, which is not what a provider that caches bills (Anthropic: reads at a tenth of input,
 * 5-minute writes at 1.25 times, 1-hour writes at twice).
 */
export function pricingWarnings(name: string, provider: Provider): string[] {
  const models = Object.entries(provider.pricing ?? {})
    .filter(([, p]) => p.cacheReadPerMTok === undefined || p.cacheWritePerMTok === undefined)
    .map(([model]) => `'${model}'`);
  if (models.length === 0) return [];
  const named =
    models.length > 5 ? `${models.slice(0, 5).join(", ")} and ${models.length - 5} more` : models.join(", ");
  return [
    `Provider '${name}' prices ${named} without cacheReadPerMTok or cacheWritePerMTok: tokens read from or ` +
      `written to the prompt cache are priced as input (inputPerMTok). Anthropic bills cache reads at a ` +
      `tenth of input and 5-minute cache writes at 1.25 times input; set both prices to the model's.`,
  ];
}
