import type { RequestType } from "../config/schemas";
import type { CallRecord } from "./record";

/** OpenTelemetry's `gen_ai.operation.name` for each request type; count_tokens has no such operation. */
const OPERATION: Record<RequestType, string> = {
  chat: "chat",
  messages: "chat",
  responses: "chat",
  completions: "text_completion",
  embeddings: "embeddings",
  count_tokens: "count_tokens",
};

/**
 * The call's Workers Logs line. Workers Logs exports over OTLP with each field as an attribute, so fields
 * that have an OpenTelemetry GenAI (or HTTP) name carry it; the rest are under `bricklane.`. Bodies never go
 * into logs. docs/observability.md has the mapping.
 */
export function callLogLine(r: CallRecord): Record<string, unknown> {
  return {
    msg: "call",
    requestId: r.requestId,
    "gen_ai.operation.name": OPERATION[r.requestType],
    "gen_ai.provider.name": r.provider,
    "gen_ai.request.model": r.model,
    "gen_ai.request.stream": r.stream,
    "gen_ai.usage.input_tokens": r.inputTokens,
    "gen_ai.usage.cache_read.input_tokens": r.cacheReadTokens,
    "gen_ai.usage.cache_creation.input_tokens": r.cacheWriteTokens,
    "gen_ai.usage.output_tokens": r.outputTokens,
    "gen_ai.usage.reasoning.output_tokens": r.reasoningTokens,
    "http.response.status_code": r.status,
    ...(r.errorCode !== null && { "error.type": r.errorCode }),
    ...(r.userAgent !== null && { "user_agent.original": r.userAgent }),
    "bricklane.call.id": r.id,
    "bricklane.key.id": r.keyId,
    "bricklane.key.name": r.keyName,
    ...(r.team !== null && { "bricklane.team": r.team }),
    ...(r.route !== null && { "bricklane.route": r.route }),
    "bricklane.request_type": r.requestType,
    "bricklane.outcome": r.outcome,
    "bricklane.tokens_estimated": r.tokensEstimated,
    "bricklane.cost_usd": r.costUsd,
    "bricklane.duration_ms": r.durationMs,
    ...(r.firstByteMs !== null && { "bricklane.first_byte_ms": r.firstByteMs }),
    "bricklane.attempts": r.attempts,
    ...(r.requestTags !== null && { "bricklane.request_tags": r.requestTags }),
  };
}
