import type { Context } from "hono";
import type { ModelPrice, RequestType } from "../config/schemas";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { NO_TOKENS, type Usage } from "../formats/usage";
import { costUsd } from "../limits/pricing";
import { bodyCapture, fitBodies, jsonSize, loggedBody, type BodyCapture } from "../observe/bodies";
import { observeCall } from "../observe/observe";
import { MAX_MESSAGE_BYTES } from "../observe/outbox";
import type { CallOutcome, CallRecord } from "../observe/record";
import type { RequestTags } from "../upstream/request-tags";

/** What a relay knows about a call it answered, once the answer is over. */
export type CallResult = {
  provider: string;
  model: string;
  status: number;
  stream: boolean;
  usage: Usage | null;
  end: Exclude<CallOutcome, "upstream_error">;
  durationMs: number;
};

/**
 * What the call log needs to know about a call beyond its answer, gathered as the call goes: set up by the
 * key auth, filled in by dispatch (route, attempts) and the upstream call (what was sent, when it answered).
 */
export type CallTrace = {
  startedAt: number;
  logBodies: boolean;
  requestType: RequestType | null;
  route: string | null;
  attempts: number;
  /** The last attempt's provider and model, and its price. */
  provider: string | null;
  model: string | null;
  price: ModelPrice | undefined;
  /** Some attempt's request went upstream: the call is logged, exactly once. */
  sentUpstream: boolean;
  /** When the answering upstream's response headers arrived. */
  firstByteAt: number | null;
  requestTags: RequestTags | null;
  /** The virtual key and the upstream credentials used, redacted from logged bodies. */
  secrets: string[];
  responseBody: string | BodyCapture | null;
};

/** `virtualKey`: the key the client presented, redacted from logged bodies like the upstream credentials. */
export function newCallTrace(logBodies: boolean, virtualKey: string): CallTrace {
  return {
    startedAt: Date.now(),
    logBodies,
    requestType: null,
    route: null,
    attempts: 0,
    provider: null,
    model: null,
    price: undefined,
    sentUpstream: false,
    firstByteAt: null,
    requestTags: null,
    secrets: [virtualKey],
    responseBody: null,
  };
}

/** A JSON answer's body, for the log when the key logs bodies. */
export function keepResponseBody(c: Context<AppEnv>, text: string): void {
  const trace = c.get("call");
  if (trace.logBodies) trace.responseBody = text;
}

/** A streamed answer, with a copy of its first bytes kept for the log when the key logs bodies. */
export function captureResponseStream(
  c: Context<AppEnv>,
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const trace = c.get("call");
  if (!trace.logBodies) return stream;
  const capture = bodyCapture();
  trace.responseBody = capture;
  return stream.pipeThrough(capture.stream);
}

type Ending = {
  status: number;
  stream: boolean;
  usage: Usage | null;
  outcome: CallOutcome;
  errorCode: string | null;
  provider: string;
  model: string;
};

async function buildRecord(c: Context<AppEnv>, trace: CallTrace, end: Ending): Promise<CallRecord> {
  const key = c.get("key");
  const now = Date.now();
  const usage = end.usage ?? NO_TOKENS;
  const userAgent = c.req.header("user-agent");
  const record: CallRecord = {
    id: crypto.randomUUID(),
    time: new Date(trace.startedAt).toISOString(),
    requestId: c.get("requestId"),
    keyId: key.id,
    keyName: key.name,
    team: key.team ?? null,
    route: trace.route,
    provider: end.provider,
    model: end.model,
    requestType: trace.requestType ?? "chat",
    status: end.status,
    stream: end.stream,
    outcome: end.outcome,
    inputTokens: usage.inputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    outputTokens: usage.outputTokens,
    reasoningTokens: usage.reasoningTokens,
    tokensEstimated: usage.estimated,
    costUsd: costUsd(trace.price, end.usage),
    durationMs: now - trace.startedAt,
    firstByteMs: trace.firstByteAt === null ? null : trace.firstByteAt - trace.startedAt,
    attempts: trace.attempts,
    errorCode: end.errorCode,
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    requestTags: trace.requestTags,
  };
  if (!trace.logBodies) return record;
  const secrets = trace.secrets;
  const request = loggedBody(await c.req.text(), secrets);
  const answer = trace.responseBody;
  const response =
    answer === null ? null : loggedBody(typeof answer === "string" ? answer : answer.text(), secrets);
  const capped = [request, ...(response ? [response] : [])];
  // The room the bodies have: a message's bound less the rest of the record (the bodies' places in it
  // counted as empty strings, whose quotes the bodies' sizes include again).
  const rest = jsonSize({ ...record, requestBody: "", responseBody: "", bodiesTruncated: true });
  const fitted = fitBodies(
    capped.map((b) => b.text),
    MAX_MESSAGE_BYTES - rest + 2 * capped.length,
  );
  return {
    ...record,
    requestBody: fitted.texts[0] ?? "",
    ...(response && { responseBody: fitted.texts[1] ?? "" }),
    bodiesTruncated: fitted.truncated || capped.some((b) => b.truncated),
  };
}

/** Builds and sends the record; a failure here is logged and never touches the call or its metering. */
function observe(c: Context<AppEnv>, trace: CallTrace, end: Ending): Promise<void> {
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  return buildRecord(c, trace, end).then(
    (record) => observeCall(c.env, waitUntil, record),
    (e: unknown) =>
      console.error(
        JSON.stringify({
          msg: "call log: record not built",
          requestId: c.get("requestId"),
          error: e instanceof Error ? e.message : String(e),
        }),
      ),
  );
}

/**
 * Logs a call that was answered through a relay, once it is over (for a stream: when it ended or the
 * client left). The call log only logs: accounting is the dispatcher's.
 */
export async function logAnsweredCall(c: Context<AppEnv>, result: CallResult): Promise<void> {
  const trace = c.get("call");
  // A streamed body's copy is complete once its last bytes passed; a client that left ends it at once.
  const answer = trace.responseBody;
  if (answer !== null && typeof answer !== "string" && result.end !== "client_cancelled") {
    await answer.settled;
  }
  const failed = result.end === "upstream_cut" || result.end === "upstream_error_event";
  await observe(c, trace, {
    status: result.status,
    stream: result.stream,
    usage: result.usage,
    outcome: result.end,
    errorCode: failed ? "upstream_error" : null,
    provider: result.provider,
    model: result.model,
  });
}

/** Whether the client asked for a stream, from the (already read) request body. */
async function askedToStream(c: Context<AppEnv>): Promise<boolean> {
  try {
    const body: unknown = JSON.parse(await c.req.text());
    return typeof body === "object" && body !== null && "stream" in body && body.stream === true;
  } catch {
    return false;
  }
}

/**
 * Logs a call that went upstream but was never answered through a relay (the upstream failed, timed out
 * or sent something unreadable), with the error the client got.
 */
export async function logFailedCall(c: Context<AppEnv>, error: unknown): Promise<void> {
  const trace = c.get("call");
  await observe(c, trace, {
    status: error instanceof GatewayError ? error.status : 500,
    stream: await askedToStream(c),
    usage: null,
    outcome: "upstream_error",
    errorCode: error instanceof GatewayError ? error.code : "internal",
    provider: trace.provider ?? "",
    model: trace.model ?? "",
  });
}
