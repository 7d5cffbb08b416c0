import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name } from "../../config/schemas";
import { parseWith } from "../../formats/validate";
import { queryCalls, type CallCursor } from "../../observe/calls-table";

/**
 * `GET /admin/calls?key=&team=&provider=&model=&status=&from=&to=&limit=&cursor=`: recent calls from the
 * D1 call log, newest first, one page at a time (`nextCursor` fetches the next page; null on the last).
 */
export const adminCalls = new Hono<AppEnv>();

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const DAY_MS = 86_400_000;

/** A day (`YYYY-MM-DD`, UTC) or an ISO 8601 instant with its offset. */
const Instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const CallsQuery = z.strictObject({
  key: z
    .string()
    .regex(/^key_[a-z0-9]{16}$/, "a key id")
    .optional(),
  team: Name.optional(),
  provider: Name.optional(),
  model: z.string().min(1).max(256).optional(),
  status: z.coerce.number().int().min(100).max(599).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
  cursor: z.string().min(1).max(512).optional(),
});

const isDay = (value: string) => value.length === 10;

/** `from` includes its instant (or its whole day); `to` includes its instant (or its whole day). */
function range(from: string | undefined, to: string | undefined): { fromMs?: number; toMs?: number } {
  const fromMs = from === undefined ? undefined : Date.parse(isDay(from) ? `${from}T00:00:00Z` : from);
  const toMs =
    to === undefined ? undefined : isDay(to) ? Date.parse(`${to}T00:00:00Z`) + DAY_MS : Date.parse(to) + 1;
  return { ...(fromMs !== undefined && { fromMs }), ...(toMs !== undefined && { toMs }) };
}

function encodeCursor(cursor: CallCursor): string {
  return btoa(JSON.stringify([cursor.time, cursor.id]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const CursorShape = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(64)]);

function decodeCursor(text: string): CallCursor {
  let value: unknown;
  try {
    value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    value = null;
  }
  const parsed = CursorShape.safeParse(value);
  if (!parsed.success) {
    throw new GatewayError(
      "invalid_request",
      400,
      "Invalid query: 'cursor' is not a cursor this API gave out.",
      {
        param: "cursor",
      },
    );
  }
  return { time: parsed.data[0], id: parsed.data[1] };
}

adminCalls.get("/", async (c) => {
  const q = parseWith(CallsQuery, c.req.query(), "query");
  const { fromMs, toMs } = range(q.from, q.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw new GatewayError("invalid_request", 400, "'from' is not before 'to'.", { param: "from" });
  }
  const page = await queryCalls(c.env.CALLS_DB, {
    ...(q.key !== undefined && { key: q.key }),
    ...(q.team !== undefined && { team: q.team }),
    ...(q.provider !== undefined && { provider: q.provider }),
    ...(q.model !== undefined && { model: q.model }),
    ...(q.status !== undefined && { status: q.status }),
    ...(fromMs !== undefined && { fromMs }),
    ...(toMs !== undefined && { toMs }),
    ...(q.cursor !== undefined && { after: decodeCursor(q.cursor) }),
    limit: q.limit ?? DEFAULT_LIMIT,
  });
  return c.json({ data: page.data, nextCursor: page.next ? encodeCursor(page.next) : null });
});
