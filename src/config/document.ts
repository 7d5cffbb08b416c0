import * as z from "zod";
import type { Issue } from "../errors";
import {
  keyReferenceIssues,
  keyWarnings,
  providerWarnings,
  routeReferenceIssues,
  teamWarnings,
  type ConfigView,
} from "./references";
import { KeyCreate, Name, ProviderInput, Route, Team, type KeyRecord, type Provider } from "./schemas";

/**
 * The whole configuration as one document (`GET/PUT /admin/config`): providers, teams and routes keyed
 * by name, keys keyed by name and without anything secret. The document is the desired state: each item
 * it names is set to exactly what it says (an absent optional field is cleared), items it does not name
 * are left alone unless `prune` is asked for, and then only in the sections the document has.
 */

/** A key's settings: what POST /admin/keys takes, less the name (the document's key), plus `disabled`. */
export const KeySettings = KeyCreate.omit({ name: true }).extend({ disabled: z.boolean().optional() });
export type KeySettings = z.infer<typeof KeySettings>;

export const ConfigDocument = z.strictObject({
  providers: z.record(Name, ProviderInput).optional(),
  teams: z.record(Name, Team).optional(),
  routes: z.record(Name, Route).optional(),
  keys: z.record(KeyCreate.shape.name, KeySettings).optional(),
});
export type ConfigDocument = z.infer<typeof ConfigDocument>;

/** What KV holds now. Keys are grouped by name: names are not unique in KV, only in a document. */
export type Snapshot = {
  providers: Map<string, Provider>;
  teams: Map<string, Team>;
  routes: Map<string, Route>;
  keys: Map<string, KeyRecord[]>;
};

export type Kind = "provider" | "team" | "route" | "key";
export type Change = { kind: Kind; name: string; action: "create" | "update" | "delete"; fields?: string[] };

const SECTIONS = [
  ["providers", "provider"],
  ["teams", "team"],
  ["routes", "route"],
  ["keys", "key"],
] as const;

export function keySettingsOf(record: KeyRecord): KeySettings {
  return {
    ...(record.team !== undefined && { team: record.team }),
    ...(record.providers !== undefined && { providers: record.providers }),
    ...(record.models !== undefined && { models: record.models }),
    ...(record.expiresAt !== undefined && { expiresAt: record.expiresAt }),
    ...(record.limits !== undefined && { limits: record.limits }),
    ...(record.disabled && { disabled: true }),
  };
}

/** The record a key becomes under the document's settings: identity kept, settings replaced. */
export function keyRecordWith(record: KeyRecord, settings: KeySettings): KeyRecord {
  const { id, name, preview, createdAt } = record;
  const { disabled, ...rest } = settings;
  return { id, name, preview, createdAt, ...rest, disabled: disabled ?? false };
}

/** `disabled: false` and no `disabled` say the same; compare in one spelling. */
function normalized(settings: KeySettings): KeySettings {
  const { disabled, ...rest } = settings;
  return disabled ? { ...rest, disabled } : rest;
}

/** Names that several keys share: a document cannot say which one it means. */
export function duplicateKeyNames(snapshot: Snapshot): Array<{ name: string; ids: string[] }> {
  return [...snapshot.keys]
    .filter(([, records]) => records.length > 1)
    .map(([name, records]) => ({ name, ids: records.map((r) => r.id) }));
}

export function exportDocument(snapshot: Snapshot): Required<ConfigDocument> {
  const sorted = <T>(m: Map<string, T>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
  const keys = new Map<string, KeySettings>();
  for (const [name, records] of snapshot.keys) {
    const only = records[0];
    if (only) keys.set(name, keySettingsOf(only));
  }
  return {
    providers: sorted(snapshot.providers),
    teams: sorted(snapshot.teams),
    routes: sorted(snapshot.routes),
    keys: sorted(keys),
  };
}

/** JSON with object keys sorted, so two values compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function changedFields(before: object, after: object): string[] {
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((f) => canonical(b[f]) !== canonical(a[f]))
    .sort();
}

function currentItems(snapshot: Snapshot, section: (typeof SECTIONS)[number][0]): Map<string, object> {
  if (section !== "keys") return snapshot[section];
  const out = new Map<string, object>();
  for (const [name, records] of snapshot.keys) {
    const first = records[0];
    if (first) out.set(name, keySettingsOf(first));
  }
  return out;
}

/** Creates and updates for everything the document names; with `prune`, deletes for the rest of its sections. */
export function planChanges(snapshot: Snapshot, doc: ConfigDocument, prune: boolean): Change[] {
  const changes: Change[] = [];
  for (const [section, kind] of SECTIONS) {
    const wanted = doc[section];
    if (!wanted) continue;
    const current = currentItems(snapshot, section);
    for (const [name, value] of Object.entries(wanted)) {
      const now = current.get(name);
      const want = kind === "key" ? normalized(value as KeySettings) : value;
      if (!now) changes.push({ kind, name, action: "create" });
      else {
        const fields = changedFields(now, want);
        if (fields.length) changes.push({ kind, name, action: "update", fields });
      }
    }
    if (prune) {
      for (const name of current.keys()) {
        if (!(name in wanted)) changes.push({ kind, name, action: "delete" });
      }
    }
  }
  return changes;
}

/** The configuration as it will be once the changes are applied, for checking references. */
export function resultingView(snapshot: Snapshot, doc: ConfigDocument, prune: boolean): ConfigView {
  const merge = <T>(now: Map<string, T>, wanted: Record<string, T> | undefined) =>
    wanted === undefined ? now : new Map<string, T>([...(prune ? [] : now), ...Object.entries(wanted)]);
  return {
    providers: merge(snapshot.providers, doc.providers),
    teams: merge(snapshot.teams, doc.teams),
    routes: merge(snapshot.routes, doc.routes),
  };
}

function resultingKeys(snapshot: Snapshot, doc: ConfigDocument, prune: boolean): Map<string, KeySettings> {
  const keys = new Map<string, KeySettings>();
  if (!(prune && doc.keys)) {
    for (const [name, records] of snapshot.keys) {
      const first = records[0];
      if (first) keys.set(name, keySettingsOf(first));
    }
  }
  for (const [name, settings] of Object.entries(doc.keys ?? {})) keys.set(name, settings);
  return keys;
}

/**
 * Every reference problem the document would leave: what it names must exist once it is applied, and
 * what it deletes must not be left named by something it keeps. Items the document does not name are
 * judged only on what this change breaks, not on problems they already had.
 */
export function documentIssues(snapshot: Snapshot, doc: ConfigDocument, prune: boolean): Issue[] {
  const before: ConfigView = snapshot;
  const after = resultingView(snapshot, doc, prune);
  const issues: Issue[] = [];
  const judge = (named: boolean, check: (view: ConfigView) => Issue[]) => {
    const now = check(after);
    if (named) return issues.push(...now);
    const already = new Set(check(before).map((i) => i.path));
    issues.push(...now.filter((i) => !already.has(i.path)));
  };
  for (const [name, route] of after.routes) {
    if (route) judge(name in (doc.routes ?? {}), (v) => routeReferenceIssues(route, v, `routes.${name}`));
  }
  for (const [name, settings] of resultingKeys(snapshot, doc, prune)) {
    judge(name in (doc.keys ?? {}), (v) => keyReferenceIssues(settings, v, `keys.${name}`));
  }
  return issues;
}

export function documentWarnings(
  snapshot: Snapshot,
  doc: ConfigDocument,
  prune: boolean,
  isSecretSet: (name: string) => boolean,
): string[] {
  const view = resultingView(snapshot, doc, prune);
  const keys = [...resultingKeys(snapshot, doc, prune).values()];
  return [
    ...Object.entries(doc.providers ?? {}).flatMap(([name, p]) => providerWarnings(name, p, isSecretSet)),
    ...Object.entries(doc.teams ?? {}).flatMap(([name, t]) => teamWarnings(name, t, view, keys)),
    ...Object.entries(doc.keys ?? {}).flatMap(([name, s]) => keyWarnings(s, view, `Key '${name}'`)),
  ];
}
