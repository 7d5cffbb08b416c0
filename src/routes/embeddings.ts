import { Hono } from "hono";
import type { AppEnv } from "../env";
import { badRequest } from "../errors";
import {
  EmbeddingsRequestEnvelope,
  embeddingInputChars,
  embeddingsToBase64,
} from "../formats/openai/embeddings";
import { tryParseJson } from "../formats/sse";
import { estimatedUsage, usageOfJson, type Usage } from "../formats/usage";
import { parseJsonObject, parseWith } from "../formats/validate";
import { relayJson } from "../http/relay";
import { dispatch } from "../routing/dispatch";

/**
 * `POST /v1/embeddings`, to openai-format providers (Anthropic has no embeddings API).
 *
 * `encoding_format: "base64"` (what the openai SDK sends when its caller names no format) is honoured by
 * the gateway: the request goes upstream without `encoding_format`, so any OpenAI-compatible server
 * (Databricks included, which only answers floats) returns float arrays, and the gateway encodes each
 * vector as little-endian float32 in base64. Any other request is a passthrough: only `model` changes.
 */
export const embeddings = new Hono<AppEnv>();

embeddings.post("/embeddings", async (c) => {
  const started = Date.now();
  const raw = parseJsonObject(await c.req.text());
  const req = parseWith(EmbeddingsRequestEnvelope, raw);
  return dispatch(c, req.model, "embeddings", (target) => {
    if (target.provider.format !== "openai") {
      throw badRequest(
        `Provider '${target.providerName}' speaks the Anthropic format, which has no embeddings API; use an openai-format provider.`,
        "model",
      );
    }
    const promptChars = () => embeddingInputChars(req.input);
    const info = { provider: target.providerName, model: target.model, started, promptChars };
    const base64 = req.encoding_format === "base64";
    const body: Record<string, unknown> = { ...raw, model: target.model };
    if (base64) delete body.encoding_format;

    return {
      path: "/v1/embeddings",
      body: body,
      respond: (res) => {
        // Embeddings produce no tokens: an upstream without usage is estimated from the input alone.
        const usageOf = (text: string): Usage =>
          usageOfJson(text, "openai") ?? estimatedUsage(promptChars(), 0);
        return relayJson(c, res, info, (text) => {
          if (!base64) return { ok: true, body: text, usage: usageOf(text) };
          const encoded = embeddingsToBase64(tryParseJson(text));
          if (!encoded.ok) return encoded;
          return { ok: true, body: JSON.stringify(encoded.value), usage: usageOf(text) };
        });
      },
    };
  });
});
