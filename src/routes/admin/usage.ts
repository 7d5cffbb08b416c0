import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name } from "../../config/schemas";
import { providers } from "../../config/store";
import { parseWith } from "../../formats/validate";
import { limiterFor, usageScopes, type Scope } from "../../limits/client";
import type { UsageRow } from "../../limits/limiter";
import { addUsage, noUsage } from "../../limits/usage-counts";
import { dayOf } from "../../limits/windows";

/**
 * `GET /admin/usage?key=<id>|team=<name>|provider=<name>&from=YYYY-MM-DD&to=YYYY-MM-DD`; with no selector,
 * the whole gateway: every call is booked to the provider that served it, so the providers add up to it.
 */
export const adminUsage = new Hono<AppEnv>();

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day as YYYY-MM-DD");
export const UsageQuery = z
  .strictObject({
    key: z
      .string()
      .regex(/^key_[a-z0-9]{16}$/)
      .optional(),
    team: Name.optional(),
    provider: Name.optional(),
    from: Day.optional(),
    to: Day.optional(),
  })
  .refine((q) => [q.key, q.team, q.provider].filter(Boolean).length <= 1, {
    message: "name at most one of key, team or provider",
  });

const DEFAULT_DAYS = 30;

/** Adds up rows of the same day, provider and model (a provider's usage lives in several objects). */
function mergeRows(rows: UsageRow[]): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const r of rows) {
    const id = `${r.day}\u0000${r.provider}\u0000${r.model}`;
    const m = merged.get(id);
    if (!m) merged.set(id, { ...r });
    else addUsage(m, r);
  }
  return [...merged.values()].sort((a, b) =>
    a.day === b.day
      ? a.provider === b.provider
        ? a.model.localeCompare(b.model)
        : a.provider.localeCompare(b.provider)
      : a.day.localeCompare(b.day),
  );
}

adminUsage.get("/", async (c) => {
  const q = parseWith(UsageQuery, c.req.query(), "query");
  const scope: Scope | null = q.key
    ? { kind: "key", name: q.key }
    : q.team
      ? { kind: "team", name: q.team }
      : q.provider
        ? { kind: "provider", name: q.provider }
        : null;
  const scopes = scope
    ? usageScopes(scope)
    : (await providers.list(c.env)).flatMap(({ name }) => usageScopes({ kind: "provider", name }));
  const now = Date.now();
  const to = q.to ?? dayOf(now);
  const from = q.from ?? dayOf(now - (DEFAULT_DAYS - 1) * 86_400_000);
  if (from > to) throw new GatewayError("invalid_request", 400, "'from' is after 'to'.", { param: "from" });
  const rows = mergeRows((await Promise.all(scopes.map((s) => limiterFor(c.env, s).usage(from, to)))).flat());
  const total = noUsage();
  for (const row of rows) addUsage(total, row);
  return c.json({ scope: scope ?? { kind: "all" }, from, to, total, data: rows });
});
