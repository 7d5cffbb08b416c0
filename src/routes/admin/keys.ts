import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { KeyCreate, KeyPatch, type KeyRecord } from "../../config/schemas";
import { keys } from "../../config/store";
import { readJson } from "../../http/validator";
import { keyScope, limiterFor } from "../../limits/client";
import { keyReferenceIssues, keyWarnings, type KeyRefs } from "../../config/references";
import { loadViewForKey, refuse, withWarnings } from "./checks";
import { createKey, deleteKey, updateKey } from "./writes";

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

const needsConfig = (k: KeyRefs) =>
  k.team !== undefined ||
  k.providers !== undefined ||
  k.models !== undefined ||
  k.limits?.budget !== undefined;

adminKeys.post("/", async (c) => {
  const input = await readJson(c, KeyCreate);
  // A key naming nothing and spending no budget has nothing to check: no configuration read.
  const config = needsConfig(input) ? await loadViewForKey(c.env, input) : null;
  if (config) refuse(keyReferenceIssues(input, config));
  const { record, key } = await createKey(c.env, input);
  return c.json(withWarnings({ ...record, key }, config ? keyWarnings(record, config) : []), 201);
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
  // Only what the patch names is checked: an untouched reference is not this request's business.
  const named: KeyRefs = {
    ...(patch.team != null && { team: patch.team }),
    ...(patch.providers != null && { providers: patch.providers }),
    ...(patch.models != null && { models: patch.models }),
  };
  const checked: KeyRefs = { ...named, providers: next.providers, limits: next.limits };
  const config = needsConfig(checked) ? await loadViewForKey(c.env, checked) : null;
  if (config) refuse(keyReferenceIssues(named, config));
  await updateKey(c.env, hash, next);
  return c.json(withWarnings(await view(c.env, next), config ? keyWarnings(next, config) : []));
});

adminKeys.delete("/:id", async (c) => {
  const { hash, record } = await findKey(c.env, c.req.param("id"));
  await deleteKey(c.env, hash, record);
  return c.json({ id: record.id, deleted: true });
});
