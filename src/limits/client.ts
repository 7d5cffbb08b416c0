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
