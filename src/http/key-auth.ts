import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { keys, teams } from "../config/store";
import { Meter } from "../limits/meter";
import { newCallTrace, recordUnansweredCall } from "./call-log";
import { sha256Hex } from "./crypto";

/** The virtual key from `Authorization: Bearer` (OpenAI SDK, Claude Code's auth token) or `x-api-key`. */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match?.[1]) return match[1];
  }
  const apiKey = headers.get("x-api-key")?.trim();
  return apiKey || null;
}

const unauthorized = (message: string) => new GatewayError("authentication", 401, message);

/**
 * Authenticates the virtual key: KV (cached in the isolate) says which key it is; the key's Durable Object
 * says whether it may be used right now (status and limits), so revocation holds everywhere at once.
 *
 * The Durable Objects' answers are not awaited here: their round trips (the unavoidable remote calls on
 * the hot path) overlap with reading and validating the body. The upstream call waits for them
 * (src/upstream/call.ts), and a refusal turns whatever the route answered into the 401 or 429, so a
 * refused key never learns more than that.
 */
export const keyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const presented = presentedKey(c.req.raw.headers);
  if (!presented) {
    throw unauthorized(
      "Missing API key. Send the virtual key as 'Authorization: Bearer <key>' or 'x-api-key'.",
    );
  }
  const record = await keys.byHash(c.env, await sha256Hex(presented));
  if (!record) throw unauthorized("Invalid API key.");
  const team = record.team ? await teams.get(c.env, record.team) : null;
  const meter = new Meter(c.env, (p) => c.executionCtx.waitUntil(p));
  meter.startKey(record, team);
  c.set("key", record);
  c.set("meter", meter);
  c.set("call", newCallTrace(record.logBodies === true || team?.logBodies === true, presented));
  try {
    await next();
    // Whatever the route did (even a 4xx it found first), a refused key gets the refusal.
    await meter.ready();
    for (const [name, value] of Object.entries(meter.headers())) c.res.headers.set(name, value);
  } finally {
    meter.close();
    recordUnansweredCall(c);
  }
});
