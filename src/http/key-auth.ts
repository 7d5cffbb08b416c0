import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { keys } from "../config/store";
import { admitKey } from "../limits/client";
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

const REFUSALS = {
  deleted: "Invalid API key.",
  disabled: "This API key is disabled.",
  expired: "This API key has expired.",
} as const;

/**
 * Authenticates the virtual key: KV (cached in the isolate) says which key it is; the key's Durable Object
 * says whether it may be used right now, so revocation holds everywhere at once.
 *
 * The Durable Object's answer is not awaited here: the round trip (the one unavoidable remote call on the
 * hot path) overlaps with reading and validating the body. `admitted(c)` awaits it before anything goes
 * upstream, and a refused key turns whatever the route answered into the 401, so a revoked key never
 * learns more than that.
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
  const admission = admitKey(c.env, record).then((result) => {
    if (!result.ok) {
      throw new GatewayError("authentication", 401, REFUSALS[result.reason], {
        internal: `key ${record.id} refused: ${result.reason}`,
      });
    }
  });
  // Observed below or by the route; never an unhandled rejection.
  admission.catch(() => {});
  c.set("key", record);
  c.set("admission", admission);
  try {
    await next();
  } finally {
    // Whatever the route did (even a 4xx it found first), a refused key gets the refusal.
    await admission;
  }
});

/** Waits for the key's admission; throws the 401 if its Durable Object refuses it. */
export function admitted(c: Context<AppEnv>): Promise<void> {
  return c.get("admission");
}
