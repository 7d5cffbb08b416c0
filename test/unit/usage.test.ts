import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  NO_TOKENS,
  anthropicStreamUsage,
  fromAnthropicUsage,
  fromOpenAiUsage,
  toAnthropicUsage,
  toOpenAiUsage,
  toResponsesUsage,
  uncachedInputTokens,
  usageOfJson,
  type Usage,
} from "../../src/formats/usage";

/** One reader per wire format, and the writers translation uses: the breakdown survives both ways. */

const usage = (u: Partial<Usage>): Usage => ({ ...NO_TOKENS, ...u });

describe("reading Anthropic usage", () => {
  it("adds the uncached input, cache writes and cache reads into all input, keeping the parts", () => {
    expect(
      fromAnthropicUsage({
        input_tokens: 10,
        cache_creation_input_tokens: 100,
        cache_read_input_tokens: 1000,
        output_tokens: 5,
      }),
    ).toEqual(usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 5 }));
  });

  it("takes missing, null, negative or non-numeric counts as 0, and no usage object as none", () => {
    expect(
      fromAnthropicUsage({ input_tokens: 4, cache_read_input_tokens: null, cache_creation_input_tokens: -3 }),
    ).toEqual(usage({ inputTokens: 4 }));
    expect(fromAnthropicUsage({ input_tokens: "12", output_tokens: Infinity })).toEqual(usage({}));
    expect(fromAnthropicUsage(null)).toBeNull();
    expect(fromAnthropicUsage([1, 2])).toBeNull();
  });
});

describe("reading OpenAI usage", () => {
  it("keeps prompt_tokens whole, with the cached part and the reasoning part of the completion", () => {
    expect(
      fromOpenAiUsage({
        prompt_tokens: 1110,
        completion_tokens: 20,
        total_tokens: 1130,
        prompt_tokens_details: { cached_tokens: 1000 },
        completion_tokens_details: { reasoning_tokens: 12 },
      }),
    ).toEqual(usage({ inputTokens: 1110, cacheReadTokens: 1000, outputTokens: 20, reasoningTokens: 12 }));
  });

  it("never lets a part exceed its total, whatever the upstream claims", () => {
    expect(
      fromOpenAiUsage({
        prompt_tokens: 5,
        completion_tokens: 2,
        prompt_tokens_details: { cached_tokens: 50 },
        completion_tokens_details: { reasoning_tokens: 9 },
      }),
    ).toEqual(usage({ inputTokens: 5, cacheReadTokens: 5, outputTokens: 2, reasoningTokens: 2 }));
  });

  it("reads a JSON body of either format, and nothing from a body that is not one", () => {
    expect(usageOfJson('{"usage":{"prompt_tokens":3,"completion_tokens":1}}', "openai")).toEqual(
      usage({ inputTokens: 3, outputTokens: 1 }),
    );
    expect(usageOfJson('{"usage":{"input_tokens":3,"cache_read_input_tokens":4}}', "anthropic")).toEqual(
      usage({ inputTokens: 7, cacheReadTokens: 4 }),
    );
    expect(usageOfJson("not json", "openai")).toBeNull();
    expect(usageOfJson('{"id":"x"}', "anthropic")).toBeNull();
  });
});

describe("Anthropic streams", () => {
  it("take input and cache counts from message_start and output from message_delta", () => {
    const tally = anthropicStreamUsage();
    expect(tally.usage).toBeNull();
    tally.add({
      input_tokens: 10,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 1000,
      output_tokens: 1,
    });
    tally.add({ output_tokens: 42 });
    expect(tally.usage).toEqual(
      usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 42 }),
    );
  });

  it("treat the counters as running totals: repeats and zeros in message_delta lose nothing", () => {
    const tally = anthropicStreamUsage();
    tally.add({ input_tokens: 10, cache_read_input_tokens: 1000, output_tokens: 1 });
    tally.add({
      input_tokens: 0,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 0,
      output_tokens: 9,
    });
    expect(tally.usage).toEqual(usage({ inputTokens: 1010, cacheReadTokens: 1000, outputTokens: 9 }));
  });

  it("count an upstream that reports input only in message_delta", () => {
    const tally = anthropicStreamUsage();
    tally.add(undefined);
    expect(tally.usage).toBeNull();
    tally.add({ input_tokens: 9, output_tokens: 4 });
    expect(tally.usage).toEqual(usage({ inputTokens: 9, outputTokens: 4 }));
  });
});

describe("writing usage in the client's format", () => {
  const cached = usage({ inputTokens: 1110, cacheWriteTokens: 100, cacheReadTokens: 1000, outputTokens: 20 });

  it("OpenAI: all input as prompt_tokens, cache reads as cached_tokens (writes have no field)", () => {
    expect(toOpenAiUsage(cached)).toEqual({
      prompt_tokens: 1110,
      completion_tokens: 20,
      total_tokens: 1130,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
    expect(toOpenAiUsage({ ...cached, reasoningTokens: 8 }).completion_tokens_details).toEqual({
      reasoning_tokens: 8,
    });
  });

  it("Anthropic: the uncached rest as input_tokens, reads and writes beside it", () => {
    expect(toAnthropicUsage(cached)).toEqual({
      input_tokens: 10,
      output_tokens: 20,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 1000,
    });
    expect(uncachedInputTokens(cached)).toBe(10);
  });

  it("Responses: totals, with cache reads and reasoning as details", () => {
    expect(toResponsesUsage({ ...cached, reasoningTokens: 8 })).toEqual({
      input_tokens: 1110,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 8 },
      total_tokens: 1130,
    });
  });

  const count = fc.nat({ max: 1_000_000 });

  it("Anthropic → OpenAI → gateway: all input, output and cache reads survive (writes join the uncached part)", () => {
    fc.assert(
      fc.property(count, count, count, count, (input, write, read, output) => {
        const upstream = fromAnthropicUsage({
          input_tokens: input,
          cache_creation_input_tokens: write,
          cache_read_input_tokens: read,
          output_tokens: output,
        });
        if (!upstream) throw new Error("no usage");
        const client = fromOpenAiUsage(toOpenAiUsage(upstream));
        expect(client).toEqual({ ...upstream, cacheWriteTokens: 0 });
        expect(fromAnthropicUsage(toAnthropicUsage(upstream))).toEqual(upstream);
      }),
    );
  });

  it("OpenAI → Anthropic → gateway: every count survives", () => {
    fc.assert(
      fc.property(count, count, count, (prompt, cachedTokens, completion) => {
        const upstream = fromOpenAiUsage({
          prompt_tokens: prompt,
          completion_tokens: completion,
          prompt_tokens_details: { cached_tokens: cachedTokens },
        });
        if (!upstream) throw new Error("no usage");
        expect(fromAnthropicUsage(toAnthropicUsage(upstream))).toEqual(upstream);
        expect(fromOpenAiUsage(toOpenAiUsage(upstream))).toEqual(upstream);
      }),
    );
  });
});
