import { GatewayError } from "../../errors";
import type { ConfigView, KeyRefs, User } from "../../config/references";
import { describeUsers, modelTarget } from "../../config/references";
import type { Route } from "../../config/schemas";
import { configForChecks } from "../../config/store";
import type { Issue } from "../../errors";
import { invalid } from "../../formats/validate";

/** Providers, teams and routes as KV holds them now (fresh reads: admin writes are rare, typos are not). */
export const loadView = (env: CloudflareBindings): Promise<ConfigView> => configForChecks(env);

/**
 * Just what a key's checks need: the team, providers and routes it names, and every provider only when
 * a budget could be spent through any of them (no allowlist), so creating a key costs a few reads.
 */
export function loadViewForKey(env: CloudflareBindings, key: KeyRefs): Promise<ConfigView> {
  const targets = (key.models ?? []).map(modelTarget);
  const named = (kind: "provider" | "route") => targets.filter((t) => t.kind === kind).map((t) => t.name);
  return configForChecks(env, {
    providers:
      key.limits?.budget && key.providers === undefined
        ? "all"
        : [...(key.providers ?? []), ...named("provider")],
    teams: key.team === undefined ? [] : [key.team],
    routes: named("route"),
  });
}

/** Just the providers a route names. */
export const loadViewForRoute = (env: CloudflareBindings, route: Route): Promise<ConfigView> =>
  configForChecks(env, {
    providers: [...route.destinations, ...(route.fallbacks ?? [])].map((t) => t.provider),
    teams: [],
    routes: [],
  });

/** Whether the Worker has a secret (or var) of this name with a value. */
export function secretChecker(env: CloudflareBindings): (name: string) => boolean {
  return (name) => {
    const value: unknown = (env as unknown as Record<string, unknown>)[name];
    return typeof value === "string" && value !== "";
  };
}

/** 400 listing every problem, if there are any. */
export function refuse(issues: Issue[]): void {
  if (issues.length) throw invalid(issues);
}

/** 409 naming everything that still uses what is being deleted. */
export function refuseInUse(thing: string, users: readonly User[]): void {
  if (!users.length) return;
  throw new GatewayError(
    "invalid_request",
    409,
    `${thing} is still used by ${describeUsers(users)}; change or delete those first.`,
    { issues: users.map((u) => ({ path: u.path, message: `uses ${thing}` })) },
  );
}

/** `warnings` goes into an answer only when there is something to say. */
export const withWarnings = <T extends object>(body: T, warnings: string[]) =>
  warnings.length ? { ...body, warnings } : body;
