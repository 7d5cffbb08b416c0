import type { Issue } from "../errors";
import { pricingWarnings } from "../limits/pricing";
import type { KeyRecord, Limits, Provider, Route, Team } from "./schemas";

/**
 * What one piece of configuration says about the others. A typo in a reference must not half-work (a key
 * booked to a team that does not exist escapes the team's limits), so writes that name a missing provider,
 * team or route are refused, and deleting something still named elsewhere is refused with the names of its
 * users. Settings that are legal but probably not meant (a budget nothing can spend) become warnings.
 *
 * Pure functions over a snapshot of the configuration; the admin API loads the snapshot.
 */

/** Everything by name; null where a stored value is unreadable (the name is still taken). */
export type ConfigView = {
  providers: ReadonlyMap<string, Provider | null>;
  teams: ReadonlyMap<string, Team | null>;
  routes: ReadonlyMap<string, Route | null>;
};

/** The reference-bearing fields of a key, as created, patched or written in a config document. */
export type KeyRefs = Pick<KeyRecord, "team" | "providers" | "models" | "limits">;

/** `<provider>/<model>` names a provider; a bare name is a route (see ModelPattern). */
export function modelTarget(pattern: string): { kind: "provider" | "route"; name: string } {
  const slash = pattern.indexOf("/");
  return slash < 0 ? { kind: "route", name: pattern } : { kind: "provider", name: pattern.slice(0, slash) };
}

export function keyReferenceIssues(key: KeyRefs, view: ConfigView, at = ""): Issue[] {
  const issues: Issue[] = [];
  const path = (field: string) => (at ? `${at}.${field}` : field);
  if (key.team !== undefined && !view.teams.has(key.team)) {
    issues.push({ path: path("team"), message: `no team named '${key.team}'` });
  }
  key.providers?.forEach((name, i) => {
    if (!view.providers.has(name)) {
      issues.push({ path: path(`providers[${i}]`), message: `no provider named '${name}'` });
    }
  });
  key.models?.forEach((pattern, i) => {
    const target = modelTarget(pattern);
    const known = target.kind === "route" ? view.routes.has(target.name) : view.providers.has(target.name);
    if (!known) {
      issues.push({ path: path(`models[${i}]`), message: `no ${target.kind} named '${target.name}'` });
    }
  });
  return issues;
}

export function routeReferenceIssues(route: Route, view: ConfigView, at = ""): Issue[] {
  const issues: Issue[] = [];
  const prefix = at ? `${at}.` : "";
  for (const list of ["destinations", "fallbacks"] as const) {
    route[list]?.forEach((target, i) => {
      if (!view.providers.has(target.provider)) {
        issues.push({
          path: `${prefix}${list}[${i}].provider`,
          message: `no provider named '${target.provider}'`,
        });
      }
    });
  }
  return issues;
}

/** Where a provider, team or route is still named: paths in the config document's terms. */
export type User = { path: string; what: string };

function keyLabel(key: KeyRecord): string {
  return `key '${key.name}' (${key.id})`;
}

export function providerUsers(name: string, view: ConfigView, keys: readonly KeyRecord[]): User[] {
  const users: User[] = [];
  for (const [routeName, route] of view.routes) {
    for (const list of ["destinations", "fallbacks"] as const) {
      route?.[list]?.forEach((target, i) => {
        if (target.provider === name) {
          users.push({ path: `routes.${routeName}.${list}[${i}].provider`, what: `route '${routeName}'` });
        }
      });
    }
  }
  for (const key of keys) {
    key.providers?.forEach((p, i) => {
      if (p === name) users.push({ path: `keys.${key.name}.providers[${i}]`, what: keyLabel(key) });
    });
    key.models?.forEach((m, i) => {
      const target = modelTarget(m);
      if (target.kind === "provider" && target.name === name) {
        users.push({ path: `keys.${key.name}.models[${i}]`, what: keyLabel(key) });
      }
    });
  }
  return users;
}

export function teamUsers(name: string, keys: readonly KeyRecord[]): User[] {
  return keys.filter((k) => k.team === name).map((k) => ({ path: `keys.${k.name}.team`, what: keyLabel(k) }));
}

export function routeUsers(name: string, keys: readonly KeyRecord[]): User[] {
  const users: User[] = [];
  for (const key of keys) {
    key.models?.forEach((m, i) => {
      const target = modelTarget(m);
      if (target.kind === "route" && target.name === name) {
        users.push({ path: `keys.${key.name}.models[${i}]`, what: keyLabel(key) });
      }
    });
  }
  return users;
}

/** "route 'a', key 'b' (key_…)": each user once, in the order found. */
export function describeUsers(users: readonly User[]): string {
  return [...new Set(users.map((u) => u.what))].join(", ");
}

const hasPricing = (p: Provider) => p.pricing !== undefined && Object.keys(p.pricing).length > 0;

function unpriced(names: Iterable<string>, view: ConfigView): string[] {
  const out: string[] = [];
  for (const name of names) {
    const provider = view.providers.get(name);
    if (provider && !hasPricing(provider)) out.push(name);
  }
  return out;
}

function budgetWarning(owner: string, limits: Limits | undefined, providers: string[]): string[] {
  if (!limits?.budget || providers.length === 0) return [];
  const list = providers.map((p) => `'${p}'`).join(", ");
  return [
    `${owner} has a budget, but provider${providers.length > 1 ? "s" : ""} ${list} ` +
      `${providers.length > 1 ? "have" : "has"} no pricing: calls through ${providers.length > 1 ? "them" : "it"} ` +
      "cost $0 and never count against the budget.",
  ];
}

/** Providers a key can reach: its allowlist, or every provider when it has none. */
function reachable(key: Pick<KeyRecord, "providers">, view: ConfigView): string[] {
  return key.providers ?? [...view.providers.keys()];
}

export function keyWarnings(key: KeyRefs, view: ConfigView, owner = "The key"): string[] {
  return budgetWarning(owner, key.limits, unpriced(reachable(key, view), view));
}

/** A team's providers are what its keys can reach; a team with no keys yet could reach any. */
export function teamWarnings(
  name: string,
  team: Team,
  view: ConfigView,
  keys: ReadonlyArray<Pick<KeyRecord, "team" | "providers">>,
): string[] {
  const members = keys.filter((k) => k.team === name);
  const names = members.length ? new Set(members.flatMap((k) => reachable(k, view))) : view.providers.keys();
  return budgetWarning(`Team '${name}'`, team.limits, unpriced(names, view));
}

/** The Worker secrets a provider's auth names. */
export function secretsOf(provider: Provider): string[] {
  const auth = provider.auth;
  if (auth.type === "bearer") return [auth.secret];
  if (auth.type === "databricks-oauth") return [auth.clientId, auth.clientSecret];
  return [];
}

export function providerWarnings(
  name: string,
  provider: Provider,
  isSecretSet: (secret: string) => boolean,
): string[] {
  const warnings: string[] = [];
  for (const secret of secretsOf(provider)) {
    if (!isSecretSet(secret)) {
      warnings.push(
        `Provider '${name}' names the secret '${secret}', which is not set on this gateway: its calls ` +
          `answer 500 until it is (npx wrangler secret put ${secret}).`,
      );
    }
  }
  warnings.push(...budgetWarning(`Provider '${name}'`, provider.limits, hasPricing(provider) ? [] : [name]));
  warnings.push(...pricingWarnings(name, provider));
  return warnings;
}
