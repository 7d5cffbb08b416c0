import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../env";
import { parseJsonObject, parseWith } from "../formats/validate";

/**
 * Reads and validates a JSON body whatever its content-type: admins script this API with curl, which
 * sends form encoding unless told otherwise, and a confusing "name: received undefined" helps nobody.
 */
export async function readJson<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, parseJsonObject(await c.req.text()));
}
