import * as z from "zod";

/**
 * OpenAI embeddings (`POST /v1/embeddings`). The gateway reads only what it needs; every other field goes
 * upstream as sent. `encoding_format: "base64"` is answered by the gateway itself (see the route).
 */
export const EmbeddingsRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown()).min(1)]),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});
export type EmbeddingsRequestEnvelope = z.infer<typeof EmbeddingsRequestEnvelope>;

/** Characters of input text (token-id inputs count one character per id), for the usage estimate. */
export function embeddingInputChars(input: EmbeddingsRequestEnvelope["input"]): number {
  if (typeof input === "string") return input.length;
  let chars = 0;
  for (const item of input) {
    if (typeof item === "string") chars += item.length;
    else if (Array.isArray(item)) chars += item.length;
    else if (typeof item === "number") chars += 1;
  }
  return chars;
}

/** A vector as OpenAI's base64 encoding has it: little-endian float32 values, base64-encoded. */
export function float32Base64(values: readonly number[]): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(i * 4, v, true);
  let binary = "";
  // String.fromCharCode takes arguments; in slices, so a 3072-dimension vector never hits a limit.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const EmbeddingsResponse = z.looseObject({
  data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]) })),
});

/**
 * An upstream embeddings answer with every float vector replaced by its base64 form; vectors that are
 * already strings (an upstream that honoured base64 itself) and every other field stay as they are.
 */
export function embeddingsToBase64(
  body: unknown,
): { ok: true; value: object } | { ok: false; reason: string } {
  const parsed = EmbeddingsResponse.safeParse(body);
  if (!parsed.success) return { ok: false, reason: "upstream embeddings answer has no data[].embedding" };
  return {
    ok: true,
    value: {
      ...parsed.data,
      data: parsed.data.data.map((item) =>
        typeof item.embedding === "string" ? item : { ...item, embedding: float32Base64(item.embedding) },
      ),
    },
  };
}
