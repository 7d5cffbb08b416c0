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
 * A provider without a cap has no counter to keep exact, only usage to add up; spreading that over a few
 * objects keeps one object from serialising every call through a busy provider. Usage reads add them up.
 */
export const PROVIDER_USAGE_SHARDS = 8;

export function providerUsageShard(name: string): Scope {
  return { kind: "provider", name: `${name}#${Math.floor(Math.random() * PROVIDER_USAGE_SHARDS)}` };
}

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
