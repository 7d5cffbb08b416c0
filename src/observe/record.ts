import * as z from "zod";
import { RequestType } from "../config/schemas";

/**
 * One call that reached an upstream, as it travels on the Queue and lands in R2 (one JSON line) and D1
 * (one row). The same schema checks what the consumer receives, so a message from another version of the
 * gateway is either understood or set aside, never half-written.
 */

/** How a call ended. */
export const CallOutcome = z.enum([
  /** The answer reached its end. */
  "complete",
  /** The upstream's stream broke off; the client got an in-band error. */
  "upstream_cut",
  /** The upstream sent an error event inside its stream. */
  "upstream_error_event",
  /** The client went away before the end. */
  "client_cancelled",
  /** The upstream failed before answering (an error status, a timeout, no connection). */
  "upstream_error",
]);
export type CallOutcome = z.infer<typeof CallOutcome>;

export const CallRecord = z.object({
  /** Unique per call (the request id is the client's when it sent one, so it may repeat). */
  id: z.string().min(1).max(64),
  /** When the call arrived, ISO 8601 UTC. */
  time: z.iso.datetime(),
  requestId: z.string().max(256),
  keyId: z.string().max(64),
  keyName: z.string().max(256),
  team: z.string().max(64).nullable(),
  /** The route the client named, when the model was a route. */
  route: z.string().max(64).nullable(),
  /** What served the call (for a route: the destination that answered, or the last one tried). */
  provider: z.string().max(64),
  model: z.string().max(256),
  requestType: RequestType,
  /** The HTTP status the client got. */
  status: z.number().int().min(100).max(599),
  stream: z.boolean(),
  outcome: CallOutcome,
  /** Every input token, cached or not (OpenAI's and OpenTelemetry's count). */
  inputTokens: z.number().nonnegative(),
  /**
   * The parts of `inputTokens` read from and written to the provider's prompt cache; 0 in records of
   * gateways from before they were counted.
   */
  cacheReadTokens: z.number().nonnegative().default(0),
  cacheWriteTokens: z.number().nonnegative().default(0),
  outputTokens: z.number().nonnegative(),
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens: z.number().nonnegative().default(0),
  /** The upstream reported no usage and the counts are the gateway's estimate (about 4 characters a token). */
  tokensEstimated: z.boolean(),
  /** At the model's prices: uncached input, cache reads, cache writes and output each at its own. */
  costUsd: z.number().nonnegative(),
  /** From the call's arrival to its end (for a stream: its last byte, or the client leaving). */
  durationMs: z.number().nonnegative(),
  /** From the call's arrival to the answering upstream's response headers; null if none answered. */
  firstByteMs: z.number().nonnegative().nullable(),
  /** Upstream attempts (retries and fallbacks of a route included). */
  attempts: z.number().int().nonnegative(),
  /** The gateway's error code (as in src/errors.ts), or `upstream_error` for a stream that failed; null if none. */
  errorCode: z.string().max(64).nullable(),
  userAgent: z.string().max(512).nullable(),
  /** The tags sent upstream in Databricks-Ai-Gateway-Request-Tags, if any. */
  requestTags: z.record(z.string(), z.string()).nullable(),
  /** Only for keys or teams with `logBodies`: capped, secrets redacted. */
  requestBody: z.string().optional(),
  responseBody: z.string().optional(),
  /** A body was cut at the cap. */
  bodiesTruncated: z.boolean().optional(),
});
export type CallRecord = z.infer<typeof CallRecord>;
