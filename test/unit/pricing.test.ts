import { describe, expect, it } from "vitest";
import type { Provider } from "../../src/config/schemas";
import { NO_TOKENS, type Usage } from "../../src/formats/usage";
import { costUsd, pricingWarnings } from "../../src/limits/pricing";
import { tpmCount, windowTokens } from "../../src/limits/windows";

/** Cost as providers bill it, the warning for prices without cache prices, and what tpm counts. */

const usage = (u: Partial<Usage>): Usage => ({ ...NO_TOKENS, ...u });
// Claude Sonnet's list prices per million tokens (USD).
const SONNET = { inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 };

describe("cost", () => {
  it("prices uncached input, cache reads, cache writes and output each at its own price", () => {
    // The Claude Code turn: 50k read from the cache, 2k sent uncached, 1k generated.
    const turn = usage({ inputTokens: 52_000, cacheReadTokens: 50_000, outputTokens: 1000 });
    expect(costUsd(SONNET, turn)).toBeCloseTo(0.036, 12);
    // The emulator calls: input 10, cache write 100, cache read 1000, output 3; two of them.
    const call = usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 3 });
    expect(2 * costUsd(SONNET, call)).toBeCloseTo(0.0015, 12);
  });

  it("prices cached tokens as input where the price leaves the cache out", () => {
    const call = usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 3 });
    const plain = { inputPerMTok: 3, outputPerMTok: 15 };
    expect(costUsd(plain, call)).toBeCloseTo((1110 * 3 + 3 * 15) / 1e6, 12);
    expect(costUsd({ ...plain, cacheReadPerMTok: 0.3 }, call)).toBeCloseTo((110 * 3 + 300 + 45) / 1e6, 12);
  });

  it("reasoning is part of output; no price or no usage costs nothing", () => {
    const reasoning = usage({ inputTokens: 10, outputTokens: 100, reasoningTokens: 80 });
    expect(costUsd(SONNET, reasoning)).toBeCloseTo((10 * 3 + 100 * 15) / 1e6, 12);
    expect(costUsd(undefined, reasoning)).toBe(0);
    expect(costUsd(SONNET, null)).toBe(0);
  });
});

describe("pricing warnings", () => {
  const provider = (pricing: Provider["pricing"]): Provider => ({
    format: "anthropic",
    baseUrl: "https://example.test/anthropic",
    auth: { type: "none" },
    ...(pricing && { pricing }),
  });

  it("name the models whose price leaves out a cache price", () => {
    const warnings = pricingWarnings(
      "dbx",
      provider({
        sonnet: SONNET,
        haiku: { inputPerMTok: 1, outputPerMTok: 5 },
        opus: { inputPerMTok: 5, outputPerMTok: 25, cacheReadPerMTok: 0.5 },
      }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("Provider 'dbx' prices 'haiku', 'opus' without cacheReadPerMTok");
    expect(warnings[0]).not.toContain("sonnet");
  });

  it("say nothing when every price has both, or there are no prices", () => {
    expect(pricingWarnings("dbx", provider({ sonnet: SONNET }))).toEqual([]);
    expect(pricingWarnings("dbx", provider(undefined))).toEqual([]);
  });
});

describe("what tpm counts", () => {
  const call = usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 5 });

  it("leaves cache reads out by default, and counts them when the limits say so", () => {
    const tokens = windowTokens(call);
    expect(tokens).toEqual({ tokens: 115, cacheReadTokens: 1000 });
    expect(tpmCount(tokens, null)).toBe(115);
    expect(tpmCount(tokens, { tpmCountsCacheReads: false })).toBe(115);
    expect(tpmCount(tokens, { tpmCountsCacheReads: true })).toBe(1115);
  });
});
