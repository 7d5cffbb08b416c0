import type { CallRecord } from "./record";

/**
 * One Workers Analytics Engine data point per call. The column order is the dataset's schema (the SQL API
 * addresses columns by position), so it only ever grows at the end; README "Metrics" lists it.
 *
 * index1: key id (the sampling key: every key keeps its share of points under sampling)
 * blob1 key id, blob2 team, blob3 provider, blob4 model, blob5 status, blob6 route, blob7 outcome,
 * blob8 request type, blob9 key name, blob10 error code
 * double1 input tokens, double2 output tokens, double3 cost (USD), double4 duration (ms),
 * double5 first byte (ms, -1 when no upstream answered), double6 status, double7 attempts,
 * double8 1 when the tokens are estimated, double9 cache read tokens, double10 cache write tokens
 * (both part of double1), double11 reasoning tokens (part of double2)
 */
export function metricsDataPoint(r: CallRecord): AnalyticsEngineDataPoint {
  return {
    indexes: [r.keyId],
    blobs: [
      r.keyId,
      r.team ?? "",
      r.provider,
      r.model,
      String(r.status),
      r.route ?? "",
      r.outcome,
      r.requestType,
      r.keyName,
      r.errorCode ?? "",
    ],
    doubles: [
      r.inputTokens,
      r.outputTokens,
      r.costUsd,
      r.durationMs,
      r.firstByteMs ?? -1,
      r.status,
      r.attempts,
      r.tokensEstimated ? 1 : 0,
      r.cacheReadTokens,
      r.cacheWriteTokens,
      r.reasoningTokens,
    ],
  };
}
