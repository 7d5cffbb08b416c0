import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { KeyCreate, KeyPatch, type KeyRecord } from "../../config/schemas";
import { keys } from "../../config/store";
import { newKeyId, newVirtualKey, sha256Hex } from "../../http/crypto";
import { readJson } from "../../http/validator";
import { keyConfigOf, keyScope, limiterFor } from "../../limits/client";
import { leases } from "../../limits/leases";

/**
 * Virtual keys. The plaintext key exists only in the 201 answer to POST; KV keeps its SHA-256. Every change
 * is written to KV and to the key's Durable Object, which is what the request path asks (through leases
 * of at most a second).
 */
export const adminKeys = new Hono<AppEnv>();

async function findKey(env: CloudflareBindings, id: string) {
  const found = /^key_[a-z0-9]{16}$/.test(id) ? await keys.byId(env, id) : null;
  if (!found) throw new GatewayError("not_found", 404, `No key with id '${id}'.`);
  return found;
}

/**
 * What admins see of a key: everything but secrets, plus the authoritative status and, from its limiter,
 * the live window counters and the budget left.
 */
async function view(env: CloudflareBindings, record: KeyRecord) {
  const limiter = limiterFor(env, keyScope(record.id));
  const [config, live] = await Promise.all([limiter.getConfig(), limiter.live()]);
  const budget = live.budget && {
    ...live.budget,
    remainingUsd: Math.max(0, live.budget.usd - live.budget.spentUsd),
  };
  return {
    ...record,
    status: config?.status ?? (record.disabled ? "disabled" : "active"),
    live: { ...live, ...(budget && { budget }) },
  };
}

adminKeys.post("/", async (c) => {
  const input = await readJson(c, KeyCreate);
  const key = newVirtualKey();
  const record: KeyRecord = {
    id: newKeyId(),
    name: input.name,
    preview: `${key.slice(0, 7)}…`,
    createdAt: new Date().toISOString(),
    disabled: false,
    ...(input.team !== undefined && { team: input.team }),
    ...(input.providers !== undefined && { providers: input.providers }),
    ...(input.models !== undefined && { models: input.models }),
    ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
    ...(input.limits !== undefined && { limits: input.limits }),
    ...(input.logBodies !== undefined && { logBodies: input.logBodies }),
  };
  // The Durable Object first: if KV then fails, the orphaned state is harmless (no KV record, no access).
  await limiterFor(c.env, keyScope(record.id)).configure(keyConfigOf(record));
  await keys.put(c.env, await sha256Hex(key), record);
  return c.json({ ...record, key }, 201);
});

adminKeys.get("/", async (c) => {
  const all = await keys.list(c.env);
  return c.json({ data: await Promise.all(all.map((r) => view(c.env, r))) });
});

adminKeys.get("/:id", async (c) => {
  const { record } = await findKey(c.env, c.req.param("id"));
  return c.json(await view(c.env, record));
});

adminKeys.patch("/:id", async (c) => {
  const { hash, record } = await findKey(c.env, c.req.param("id"));
  const patch = await readJson(c, KeyPatch);
  const next: KeyRecord = { ...record };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.disabled !== undefined) next.disabled = patch.disabled;
  // `null` clears an optional setting.
  for (const field of ["team", "providers", "models", "expiresAt", "limits", "logBodies"] as const) {
    const value = patch[field];
    if (value === null) delete next[field];
    else if (value !== undefined) Object.assign(next, { [field]: value });
  }
  await keys.put(c.env, hash, next);
  await limiterFor(c.env, keyScope(next.id)).configure(keyConfigOf(next));
  // This isolate's lease of the key carries the old settings; other isolates' expire within a second.
  leases.forget(keyScope(next.id));
  return c.json(await view(c.env, next));
});

adminKeys.delete("/:id", async (c) => {
  const { hash, record } = await findKey(c.env, c.req.param("id"));
  // Revoke at the authority first: from this moment no isolate admits the key, whatever KV still says.
  await limiterFor(c.env, keyScope(record.id)).configure(keyConfigOf(record, true));
  leases.forget(keyScope(record.id));
  await keys.delete(c.env, hash, record.id);
  return c.json({ id: record.id, deleted: true });
});
