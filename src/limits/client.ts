import type { KeyRecord, Limits } from "../config/schemas";
import type { ScopeConfig } from "./limiter";

type Env = Pick<CloudflareBindings, "LIMITER">;

/** The three kinds of counters: a key, a team, a provider (global cap). */
export type Scope = { kind: "key" | "team" | "provider"; name: string };

export function limiterFor(env: Env, scope: Scope) {
  return env.LIMITER.get(env.LIMITER.idFromName(`${scope.kind}:${scope.name}`));
}

export const keyScope = (id: string): Scope => ({ kind: "key", name: id });

export function keyConfigOf(record: KeyRecord, deleted = false): ScopeConfig {
  return {
    status: deleted ? "deleted" : record.disabled ? "disabled" : "active",
    expiresAt: record.expiresAt ? Date.parse(record.expiresAt) : null,
    limits: record.limits ?? null,
  };
}

/** Teams and providers have no status of their own: only limits. */
export function limitsConfig(limits: Limits | undefined): ScopeConfig {
  return { status: "active", expiresAt: null, limits: limits ?? null };
}

/** Human words for a scope in error messages. */
export function scopeLabel(scope: Scope): string {
  return scope.kind === "key" ? "this API key" : `${scope.kind} '${scope.name}'`;
}

/**
 * Usage of a provider without a cap used to be spread over these objects, one per call, to keep one
 * object from serialising every call through a busy provider. Usage now arrives in batches (one call
 * per isolate and second at most), so it goes to the provider's own object; the shards are still read
 * for the usage they hold.
 */
export const PROVIDER_USAGE_SHARDS = 8;

/** Every object that may hold a scope's usage. */
export function usageScopes(scope: Scope): Scope[] {
  if (scope.kind !== "provider") return [scope];
  return [
    scope,
    ...Array.from({ length: PROVIDER_USAGE_SHARDS }, (_, i) => ({
      kind: "provider" as const,
      name: `${scope.name}#${i}`,
    })),
  ];
}
