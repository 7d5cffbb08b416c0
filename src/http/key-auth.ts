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

/**
 * Authenticates the virtual key: KV (cached in the isolate) says which key it is; the key's Durable Object
 * says whether it may be used right now, so revocation holds everywhere at once.
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
  const admitted = await admitKey(c.env, record);
  if (!admitted.ok) {
    const messages = {
      deleted: "Invalid API key.",
      disabled: "This API key is disabled.",
      expired: "This API key has expired.",
    } as const;
    throw new GatewayError("authentication", 401, messages[admitted.reason], {
      internal: `key ${record.id} refused: ${admitted.reason}`,
    });
  }
  c.set("key", record);
  await next();
});
