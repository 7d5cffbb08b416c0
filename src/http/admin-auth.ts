import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { timingSafeEqualStrings } from "./crypto";

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. No token configured → no admin API. */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
  const presented = match?.[1];
  if (!expected || !presented || !(await timingSafeEqualStrings(presented, expected))) {
    throw new GatewayError("authentication", 401, "Invalid or missing admin token.", {
      internal: expected ? "admin token mismatch" : "ADMIN_TOKEN secret is not set",
    });
  }
  await next();
});
