import type { KeyCreate, KeyRecord, Provider, Route, Team } from "../../config/schemas";
import { keys, providers, routes, teams } from "../../config/store";
import { newKeyId, newVirtualKey, sha256Hex } from "../../http/crypto";
import { keyConfigOf, keyScope, limiterFor, limitsConfig } from "../../limits/client";
import { leases } from "../../limits/leases";
import type * as z from "zod";

/**
 * Every configuration write with the Durable Object it configures, in the order that keeps a half-done
 * write safe. Shared by the per-resource admin routes and the whole-document `PUT /admin/config`. Each
 * drops this isolate's lease of what it changed, so the change applies here at once; other isolates'
 * leases carry it within one lease time (at most a second).
 */

export async function saveProvider(env: CloudflareBindings, name: string, provider: Provider): Promise<void> {
  await providers.put(env, name, provider);
  // The global cap lives in the provider's limiter, which applies a change to its next lease.
  await limiterFor(env, { kind: "provider", name }).configure(limitsConfig(provider.limits));
  leases.forget({ kind: "provider", name });
}

export async function deleteProvider(env: CloudflareBindings, name: string): Promise<void> {
  await providers.delete(env, name);
  await limiterFor(env, { kind: "provider", name }).configure(limitsConfig(undefined));
  leases.forget({ kind: "provider", name });
}

export async function saveTeam(env: CloudflareBindings, name: string, team: Team): Promise<void> {
  await teams.put(env, name, team);
  await limiterFor(env, { kind: "team", name }).configure(limitsConfig(team.limits));
  leases.forget({ kind: "team", name });
}

export async function deleteTeam(env: CloudflareBindings, name: string): Promise<void> {
  await teams.delete(env, name);
  await limiterFor(env, { kind: "team", name }).configure(limitsConfig(undefined));
  leases.forget({ kind: "team", name });
}

export const saveRoute = (env: CloudflareBindings, name: string, route: Route) =>
  routes.put(env, name, route);
export const deleteRoute = (env: CloudflareBindings, name: string) => routes.delete(env, name);

/** A new key: the plaintext is returned here and nowhere else; KV keeps its SHA-256. */
export async function createKey(
  env: CloudflareBindings,
  input: z.infer<typeof KeyCreate> & { disabled?: boolean },
): Promise<{ record: KeyRecord; key: string }> {
  const key = newVirtualKey();
  const record: KeyRecord = {
    id: newKeyId(),
    name: input.name,
    preview: `${key.slice(0, 7)}…`,
    createdAt: new Date().toISOString(),
    disabled: input.disabled ?? false,
    ...(input.team !== undefined && { team: input.team }),
    ...(input.providers !== undefined && { providers: input.providers }),
    ...(input.models !== undefined && { models: input.models }),
    ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
    ...(input.limits !== undefined && { limits: input.limits }),
    ...(input.logBodies !== undefined && { logBodies: input.logBodies }),
  };
  // The Durable Object first: if KV then fails, the orphaned state is harmless (no KV record, no access).
  await limiterFor(env, keyScope(record.id)).configure(keyConfigOf(record));
  await keys.put(env, await sha256Hex(key), record);
  return { record, key };
}

export async function updateKey(env: CloudflareBindings, hash: string, next: KeyRecord): Promise<void> {
  await keys.put(env, hash, next);
  await limiterFor(env, keyScope(next.id)).configure(keyConfigOf(next));
  leases.forget(keyScope(next.id));
}

export async function deleteKey(env: CloudflareBindings, hash: string, record: KeyRecord): Promise<void> {
  // Revoke at the authority first: from this moment no isolate admits the key, whatever KV still says.
  await limiterFor(env, keyScope(record.id)).configure(keyConfigOf(record, true));
  leases.forget(keyScope(record.id));
  await keys.delete(env, hash, record.id);
}
