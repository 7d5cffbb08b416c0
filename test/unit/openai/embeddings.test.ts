import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { embeddingsToBase64, float32Base64 } from "../../../src/formats/openai/embeddings";

/** What openai-node does with a base64 embedding (internal/utils/base64 toFloat32Array, Node branch). */
function sdkDecode(b64: string): number[] {
  const buf = Buffer.from(b64, "base64");
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4));
}

describe("float32Base64", () => {
  it("encodes little-endian float32", () => {
    expect(float32Base64([1])).toBe(Buffer.from([0, 0, 0x80, 0x3f]).toString("base64"));
    expect(float32Base64([])).toBe("");
  });

  it("decodes, as the openai SDK does, to the float32-rounded input (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e30, max: 1e30 }), { maxLength: 300 }),
        (values) => {
          expect(sdkDecode(float32Base64(values))).toEqual(values.map((v) => Math.fround(v)));
        },
      ),
    );
  });

  it("handles vectors larger than one String.fromCharCode slice", () => {
    const values = Array.from({ length: 20_000 }, (_, i) => i / 7);
    expect(sdkDecode(float32Base64(values))).toEqual(values.map((v) => Math.fround(v)));
  });
});

describe("embeddingsToBase64", () => {
  it("replaces float vectors, keeps strings and every other field", () => {
    const out = embeddingsToBase64({
      object: "list",
      model: "m",
      data: [
        { object: "embedding", index: 0, embedding: [0.5, -2] },
        { object: "embedding", index: 1, embedding: "AAAAAA==" },
      ],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(out).toEqual({
      ok: true,
      value: {
        object: "list",
        model: "m",
        data: [
          { object: "embedding", index: 0, embedding: float32Base64([0.5, -2]) },
          { object: "embedding", index: 1, embedding: "AAAAAA==" },
        ],
        usage: { prompt_tokens: 3, total_tokens: 3 },
      },
    });
  });

  it("refuses an answer that is not an embeddings list", () => {
    for (const bad of [null, {}, { data: [{}] }, { data: [{ embedding: [1, "x"] }] }]) {
      expect(embeddingsToBase64(bad).ok).toBe(false);
    }
  });
});
