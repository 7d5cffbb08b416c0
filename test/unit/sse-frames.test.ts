import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frameEnds, trailingBreaks } from "../../src/formats/sse";

/** The reference: the ends of the frames a regular expression cuts from the text, one after another. */
function referenceEnds(text: string): number[] {
  const ends: number[] = [];
  let at = 0;
  for (;;) {
    const m = /\r\n\r\n|\n\n|\r\r/.exec(text.slice(at));
    if (!m) return ends;
    at += m.index + m[0].length;
    ends.push(at);
  }
}

/** Bytes heavy in line breaks, with other ASCII and bytes of multi-byte characters between them. */
const bytes = fc
  .array(fc.constantFrom(10, 13, 10, 13, 32, 100, 0xe2, 0x82, 0xac), { maxLength: 40 })
  .map((xs) => new Uint8Array(xs));

/** One byte per character, so indexes in the text are indexes in the bytes. */
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

describe("frameEnds", () => {
  it("finds the ends a whole-text regular expression finds, in order", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(frameEnds(b)).toEqual(referenceEnds(latin1(b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("takes the longest break at one place and the first place of all", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(frameEnds(enc("a\r\n\r\nb\n\nc\r\rd"))).toEqual([5, 8, 11]);
    expect(frameEnds(enc("a\r\n\nb"))).toEqual([4]);
    expect(frameEnds(enc("\n\n\n\n"))).toEqual([2, 4]);
    expect(frameEnds(enc("data: x\r\n\r"))).toEqual([]);
  });
});

describe("trailingBreaks", () => {
  it("counts the line breaks at the end, at most 3", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(trailingBreaks(enc("data\r\n\r"))).toBe(3);
    expect(trailingBreaks(enc("data\n\r\n\r"))).toBe(3);
    expect(trailingBreaks(enc("data\n"))).toBe(1);
    expect(trailingBreaks(enc("data"))).toBe(0);
    expect(trailingBreaks(enc("\r"))).toBe(1);
    expect(trailingBreaks(new Uint8Array(0))).toBe(0);
  });
});
