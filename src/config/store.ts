import type { z } from "zod";
import { GatewayError } from "../errors";
import { cacheDelete, cacheGet, cacheSet } from "./cache";
import { KeyIndex, KeyRecord, Provider, Route, Team } from "./schemas";
import { durationMs } from "./vars";

/**
 * Config in Workers KV (layout: docs/storage-schema.md). Every read is validated with the same zod schema
 * as the write, so a hand-edited or outdated value fails loudly instead of half-working.
 */

type Env = Pick<CloudflareBindings, "CONFIG" | "CONFIG_CACHE_TTL_MS">;

const DEFAULT_TTL_MS = 5000;

function ttl(env: Env): number {
  return durationMs(env.CONFIG_CACHE_TTL_MS, DEFAULT_TTL_MS);
}

async function readValidated<S extends z.ZodType>(
  env: Env,
  kvKey: string,
  schema: S,
  opts: { cache: boolean },
): Promise<z.infer<S> | null> {
  if (opts.cache) {
    const cached = cacheGet(kvKey);
    if (cached.hit) return cached.value as z.infer<S> | null;
  }
  const raw = await env.CONFIG.get(kvKey, "json");
  let value: z.infer<S> | null = null;
  if (raw !== null) {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new GatewayError("config", 500, "The gateway's stored configuration is invalid.", {
        internal: `KV value ${kvKey} fails validation: ${parsed.error.message}`,
      });
    }
    value = parsed.data;
  }
  // Only hits are cached: a key or provider created a moment ago must work on the next call.
  if (opts.cache && value !== null) cacheSet(kvKey, value, ttl(env));
  return value;
}

async function writeValidated<S extends z.ZodType>(env: Env, kvKey: string, schema: S, value: z.infer<S>) {
  const checked: unknown = schema.parse(value);
  await env.CONFIG.put(kvKey, JSON.stringify(checked));
  cacheDelete(kvKey);
}

async function remove(env: Env, kvKey: string): Promise<void> {
  await env.CONFIG.delete(kvKey);
  cacheDelete(kvKey);
}

/** Every KV key under a prefix, following list cursors. */
async function listNames(env: Env, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await env.CONFIG.list({ prefix, cursor });
    names.push(...page.keys.map((k) => k.name));
    if (page.list_complete) return names;
    cursor = page.cursor;
  }
}

const providerKey = (name: string) => `provider:${name}`;
const keyKey = (hash: string) => `key:${hash}`;
const keyIdKey = (id: string) => `keyid:${id}`;

export const providers = {
  get: (env: Env, name: string) => readValidated(env, providerKey(name), Provider, { cache: true }),
  getFresh: (env: Env, name: string) => readValidated(env, providerKey(name), Provider, { cache: false }),
  put: (env: Env, name: string, value: Provider) => writeValidated(env, providerKey(name), Provider, value),
  delete: (env: Env, name: string) => remove(env, providerKey(name)),
  async list(env: Env): Promise<Array<{ name: string; provider: Provider }>> {
    const names = await listNames(env, "provider:");
    const out: Array<{ name: string; provider: Provider }> = [];
    for (const kvName of names) {
      const name = kvName.slice("provider:".length);
      const provider = await readValidated(env, kvName, Provider, { cache: false });
      if (provider) out.push({ name, provider });
    }
    return out;
  },
};

export const keys = {
  /** The request path: by hash of the presented key, cached. */
  byHash: (env: Env, hash: string) => readValidated(env, keyKey(hash), KeyRecord, { cache: true }),
  async byId(env: Env, id: string): Promise<{ hash: string; record: KeyRecord } | null> {
    const index = await readValidated(env, keyIdKey(id), KeyIndex, { cache: false });
    if (!index) return null;
    const record = await readValidated(env, keyKey(index.hash), KeyRecord, { cache: false });
    return record ? { hash: index.hash, record } : null;
  },
  async put(env: Env, hash: string, record: KeyRecord): Promise<void> {
    await writeValidated(env, keyKey(hash), KeyRecord, record);
    await writeValidated(env, keyIdKey(record.id), KeyIndex, { hash });
  },
  async delete(env: Env, hash: string, id: string): Promise<void> {
    await remove(env, keyKey(hash));
    await remove(env, keyIdKey(id));
  },
  async list(env: Env): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for (const kvName of await listNames(env, "keyid:")) {
      const found = await keys.byId(env, kvName.slice("keyid:".length));
      if (found) out.push(found.record);
    }
    return out;
  },
};

const teamKey = (name: string) => `team:${name}`;

export const teams = {
  get: (env: Env, name: string) => readValidated(env, teamKey(name), Team, { cache: true }),
  getFresh: (env: Env, name: string) => readValidated(env, teamKey(name), Team, { cache: false }),
  put: (env: Env, name: string, value: Team) => writeValidated(env, teamKey(name), Team, value),
  delete: (env: Env, name: string) => remove(env, teamKey(name)),
  async list(env: Env): Promise<Array<{ name: string; team: Team }>> {
    const out: Array<{ name: string; team: Team }> = [];
    for (const kvName of await listNames(env, "team:")) {
      const team = await readValidated(env, kvName, Team, { cache: false });
      if (team) out.push({ name: kvName.slice("team:".length), team });
    }
    return out;
  },
};

const routeKey = (name: string) => `route:${name}`;

export const routes = {
  get: (env: Env, name: string) => readValidated(env, routeKey(name), Route, { cache: true }),
  getFresh: (env: Env, name: string) => readValidated(env, routeKey(name), Route, { cache: false }),
  put: (env: Env, name: string, value: Route) => writeValidated(env, routeKey(name), Route, value),
  delete: (env: Env, name: string) => remove(env, routeKey(name)),
  async list(env: Env): Promise<Array<{ name: string; route: Route }>> {
    const out: Array<{ name: string; route: Route }> = [];
    for (const kvName of await listNames(env, "route:")) {
      const route = await readValidated(env, kvName, Route, { cache: false });
      if (route) out.push({ name: kvName.slice("route:".length), route });
    }
    return out;
  },
};

/** Names to read: every one under the prefix, or just these (those with no value are left out). */
export type Wanted = "all" | Iterable<string>;

/** Each wanted name with its value, or null where the stored value fails validation. */
async function readLenient<S extends z.ZodType>(
  env: Env,
  prefix: string,
  schema: S,
  wanted: Wanted,
): Promise<Map<string, z.infer<S> | null>> {
  const names =
    wanted === "all"
      ? (await listNames(env, prefix)).map((kvName) => kvName.slice(prefix.length))
      : [...new Set(wanted)];
  // Read side by side: one round trip for the lot, not one per value.
  const values = await Promise.all(names.map((name) => env.CONFIG.get(`${prefix}${name}`, "json")));
  const out = new Map<string, z.infer<S> | null>();
  names.forEach((name, i) => {
    if (values[i] === null) return;
    const parsed = schema.safeParse(values[i]);
    out.set(name, parsed.success ? parsed.data : null);
  });
  return out;
}

/**
 * Providers, teams and routes by name, for checking references: every one, or only the names a write
 * mentions. One unreadable value (hand-edited KV) must not stop every other write, and its name still
 * counts as taken.
 */
export async function configForChecks(
  env: Env,
  wanted: { providers: Wanted; teams: Wanted; routes: Wanted } = {
    providers: "all",
    teams: "all",
    routes: "all",
  },
) {
  const [p, t, r] = await Promise.all([
    readLenient(env, "provider:", Provider, wanted.providers),
    readLenient(env, "team:", Team, wanted.teams),
    readLenient(env, "route:", Route, wanted.routes),
  ]);
  return { providers: p, teams: t, routes: r };
}
