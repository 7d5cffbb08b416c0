import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Route } from "../../src/config/schemas";
import { attemptOrder, backoffMs, pickWeighted } from "../../src/routing/plan";

/** A small seeded PRNG (mulberry32) so the split test sees the same numbers every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("weighted split", () => {
  it("splits 10 000 seeded picks 70/20/10 within 2 points", () => {
    const dests = [
      { provider: "a", model: "m", weight: 7 },
      { provider: "b", model: "m", weight: 2 },
      { provider: "c", model: "m", weight: 1 },
    ];
    const rand = seeded(42);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 10_000; i++) {
      const picked = pickWeighted(dests, rand());
      counts[picked!.provider]! += 1;
    }
    expect(Math.abs(counts.a! / 10_000 - 0.7)).toBeLessThan(0.02);
    expect(Math.abs(counts.b! / 10_000 - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(counts.c! / 10_000 - 0.1)).toBeLessThan(0.02);
  });

  it("maps every random number in [0, 1) to an item, in proportion to the weights", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (weights, r) => {
          const items = weights.map((weight, i) => ({ i, weight }));
          const picked = pickWeighted(items, r);
          expect(picked).toBeDefined();
          const total = weights.reduce((a, b) => a + b, 0);
          const before = weights.slice(0, picked!.i).reduce((a, b) => a + b, 0);
          // r * total lies in the picked item's slice (up to float rounding at the very end).
          expect(r * total).toBeGreaterThanOrEqual(before - 1e-9);
          expect(r * total).toBeLessThanOrEqual(before + weights[picked!.i]! + 1e-9);
        },
      ),
    );
  });

  it("treats a missing weight as 1", () => {
    const items: Array<{ id: string; weight?: number }> = [{ id: "x" }, { id: "y" }];
    expect(pickWeighted(items, 0.49)?.id).toBe("x");
    expect(pickWeighted(items, 0.5)?.id).toBe("y");
  });
});

describe("attempt order", () => {
  const route: Route = {
    destinations: [
      { provider: "a", model: "m", weight: 1 },
      { provider: "b", model: "m", weight: 1 },
    ],
    fallbacks: [
      { provider: "f1", model: "m" },
      { provider: "f2", model: "m" },
    ],
  };
  const none = () => false;

  it("is one picked destination, then the fallbacks in order", () => {
    expect(attemptOrder(route, 0.1, none).map((d) => d.provider)).toEqual(["a", "f1", "f2"]);
    expect(attemptOrder(route, 0.9, none).map((d) => d.provider)).toEqual(["b", "f1", "f2"]);
  });

  it("skips cooling destinations and fallbacks while something else is left", () => {
    const cooling = (d: { provider: string }) => d.provider === "a" || d.provider === "f1";
    expect(attemptOrder(route, 0.1, cooling).map((d) => d.provider)).toEqual(["b", "f2"]);
  });

  it("still tries something when everything is cooling", () => {
    const all = () => true;
    expect(attemptOrder(route, 0.1, all).map((d) => d.provider)).toEqual(["a", "f1", "f2"]);
  });

  it("goes straight to the fallbacks when every destination is cooling", () => {
    const dests = (d: { provider: string }) => d.provider === "a" || d.provider === "b";
    expect(attemptOrder(route, 0.1, dests).map((d) => d.provider)).toEqual(["f1", "f2"]);
  });

  it("never tries the same provider/model twice", () => {
    const dup: Route = {
      destinations: [{ provider: "a", model: "m" }],
      fallbacks: [{ provider: "a", model: "m" }],
    };
    expect(attemptOrder(dup, 0.5, none)).toHaveLength(1);
  });
});

describe("backoff", () => {
  const cfg = { baseMs: 100, maxMs: 1000 };
  it("grows exponentially with jitter between half and all, capped", () => {
    expect(backoffMs(0, undefined, cfg, 0)).toBe(50);
    expect(backoffMs(0, undefined, cfg, 1)).toBe(100);
    expect(backoffMs(2, undefined, cfg, 1)).toBe(400);
    expect(backoffMs(10, undefined, cfg, 1)).toBe(1000);
  });

  it("never waits less than retry-after", () => {
    expect(backoffMs(0, 3000, cfg, 0.5)).toBe(3000);
    fc.assert(
      fc.property(
        fc.nat(6),
        fc.nat(60_000),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (retry, after, r) => {
          const wait = backoffMs(retry, after, cfg, r);
          expect(wait).toBeGreaterThanOrEqual(after);
          expect(wait).toBeLessThanOrEqual(Math.max(after, cfg.maxMs));
        },
      ),
    );
  });
});
