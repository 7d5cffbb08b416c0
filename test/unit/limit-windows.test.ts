import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  WINDOW_MS,
  dayOf,
  msUntilBelow,
  periodOf,
  prune,
  windowSum,
  type WindowEntry,
} from "../../src/limits/windows";

describe("sliding window", () => {
  it("prunes exactly the entries older than one minute", () => {
    const now = 1_000_000;
    const entries: WindowEntry[] = [
      { ts: now - WINDOW_MS - 1, amount: 1 },
      { ts: now - WINDOW_MS, amount: 2 },
      { ts: now - WINDOW_MS + 1, amount: 3 },
      { ts: now, amount: 4 },
    ];
    prune(entries, now);
    expect(entries.map((e) => e.amount)).toEqual([3, 4]);
    expect(windowSum(entries)).toBe(7);
  });

  it("says when enough of the window has passed for the sum to drop below the limit", () => {
    const now = 100_000;
    const entries = [
      { ts: 50_000, amount: 10 },
      { ts: 70_000, amount: 10 },
      { ts: 90_000, amount: 10 },
    ];
    expect(msUntilBelow(entries, 31, now)).toBe(0);
    // Below 30 once the first entry leaves (at 110 000), below 20 once the second does (130 000).
    expect(msUntilBelow(entries, 30, now)).toBe(10_000);
    expect(msUntilBelow(entries, 20, now)).toBe(30_000);
    expect(msUntilBelow(entries, 1, now)).toBe(50_000);
  });

  it("never reports a wait after which the window would still be at the limit", () => {
    const entries = fc.array(
      fc.record({ ts: fc.integer({ min: 0, max: 59_999 }), amount: fc.integer({ min: 1, max: 50 }) }),
      {
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(entries, fc.integer({ min: 1, max: 500 }), (raw, limit) => {
        const sorted = [...raw].sort((a, b) => a.ts - b.ts);
        const now = 60_000;
        const wait = msUntilBelow(sorted, limit, now);
        const later = sorted.filter((e) => e.ts > now + wait - WINDOW_MS);
        expect(windowSum(later)).toBeLessThan(limit);
        if (wait > 0) {
          const justBefore = sorted.filter((e) => e.ts > now + wait - 1 - WINDOW_MS);
          expect(windowSum(justBefore)).toBeGreaterThanOrEqual(limit);
        }
      }),
    );
  });
});

describe("budget periods (UTC, calendar-aligned)", () => {
  const t = Date.parse("2026-11-22T15:30:00Z"); // a Sunday

  it("day", () => {
    expect(periodOf("day", t)).toEqual({ key: "day:2026-11-22", endsAt: Date.parse("2026-11-23T00:00:00Z") });
  });

  it("week starts on Monday", () => {
    expect(periodOf("week", t)).toEqual({
      key: "week:2026-11-16",
      endsAt: Date.parse("2026-11-23T00:00:00Z"),
    });
    const monday = Date.parse("2026-11-23T00:00:00Z");
    expect(periodOf("week", monday).key).toBe("week:2026-11-23");
  });

  it("month, across a year end", () => {
    expect(periodOf("month", t)).toEqual({
      key: "month:2026-11",
      endsAt: Date.parse("2026-12-01T00:00:00Z"),
    });
    expect(periodOf("month", Date.parse("2026-12-31T23:59:59Z")).endsAt).toBe(
      Date.parse("2027-01-01T00:00:00Z"),
    );
  });

  it("every instant lies inside its period", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.constantFrom("day", "week", "month"),
        (now, p) => {
          const { endsAt } = periodOf(p as "day", now);
          expect(endsAt).toBeGreaterThan(now);
          expect(periodOf(p as "day", endsAt - 1).key).toBe(periodOf(p as "day", now).key);
          expect(periodOf(p as "day", endsAt).key).not.toBe(periodOf(p as "day", now).key);
        },
      ),
    );
  });

  it("usage days", () => {
    expect(dayOf(t)).toBe("2026-11-22");
  });
});
