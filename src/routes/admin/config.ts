import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import {
  ConfigDocument,
  documentIssues,
  documentWarnings,
  duplicateKeyNames,
  exportDocument,
  keyRecordWith,
  planChanges,
  type Change,
  type Snapshot,
} from "../../config/document";
import type { KeyRecord } from "../../config/schemas";
import { keys, providers, routes, teams } from "../../config/store";
import { readJson } from "../../http/validator";
import { parseWith } from "../../formats/validate";
import { refuse, secretChecker, withWarnings } from "./checks";
import {
  createKey,
  deleteKey,
  deleteProvider,
  deleteRoute,
  deleteTeam,
  saveProvider,
  saveRoute,
  saveTeam,
  updateKey,
} from "./writes";

/**
 * Configuration as code: `GET /admin/config` exports everything as one document; `PUT /admin/config`
 * makes KV match it (`?dryRun=true` only answers what it would change, `?prune=true` also deletes what
 * the document's sections leave out). Applying the same document twice changes nothing the second time.
 */
export const adminConfig = new Hono<AppEnv>();

const Flag = z.enum(["true", "false"]).optional();
export const ConfigQuery = z.strictObject({ dryRun: Flag, prune: Flag });

async function snapshotOf(env: CloudflareBindings): Promise<Snapshot> {
  const [p, t, r, k] = await Promise.all([
    providers.list(env),
    teams.list(env),
    routes.list(env),
    keys.list(env),
  ]);
  const byName = new Map<string, KeyRecord[]>();
  for (const record of k) byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
  return {
    providers: new Map(p.map((x) => [x.name, x.provider])),
    teams: new Map(t.map((x) => [x.name, x.team])),
    routes: new Map(r.map((x) => [x.name, x.route])),
    keys: byName,
  };
}

/** Keys are matched by name, so a name several keys share is refused until they are renamed apart. */
function refuseDuplicates(duplicates: Array<{ name: string; ids: string[] }>): void {
  if (!duplicates.length) return;
  const list = duplicates.map((d) => `'${d.name}' (${d.ids.join(", ")})`).join("; ");
  throw new GatewayError(
    "invalid_request",
    409,
    `Several keys share a name, and a config document matches keys by name: ${list}. ` +
      "Rename them apart first (PATCH /admin/keys/:id with a new name).",
    { issues: duplicates.map((d) => ({ path: `keys.${d.name}`, message: `names ${d.ids.join(", ")}` })) },
  );
}

adminConfig.get("/", async (c) => {
  const snapshot = await snapshotOf(c.env);
  refuseDuplicates(duplicateKeyNames(snapshot));
  return c.json(exportDocument(snapshot));
});

type Applied = Change & { id?: string; key?: string };

async function apply(env: CloudflareBindings, snapshot: Snapshot, doc: ConfigDocument, changes: Change[]) {
  const applied: Applied[] = [];
  const upserts = changes.filter((ch) => ch.action !== "delete");
  // Things others name first on the way in, last on the way out, so no moment has a dangling reference.
  for (const kind of ["provider", "team", "route", "key"] as const) {
    for (const ch of upserts.filter((x) => x.kind === kind))
      applied.push(await upsert(env, snapshot, doc, ch));
  }
  const deletes = changes.filter((ch) => ch.action === "delete");
  for (const kind of ["key", "route", "team", "provider"] as const) {
    for (const ch of deletes.filter((x) => x.kind === kind)) applied.push(await remove(env, snapshot, ch));
  }
  return applied;
}

async function upsert(env: CloudflareBindings, snapshot: Snapshot, doc: ConfigDocument, ch: Change) {
  const { name } = ch;
  switch (ch.kind) {
    case "provider":
      await saveProvider(env, name, required(doc.providers?.[name]));
      return ch;
    case "team":
      await saveTeam(env, name, required(doc.teams?.[name]));
      return ch;
    case "route":
      await saveRoute(env, name, required(doc.routes?.[name]));
      return ch;
    case "key": {
      const settings = required(doc.keys?.[name]);
      const existing = snapshot.keys.get(name)?.[0];
      if (!existing) {
        const { record, key } = await createKey(env, { name, ...settings });
        return { ...ch, id: record.id, key };
      }
      const found = await keys.byId(env, existing.id);
      if (!found)
        throw new GatewayError("not_found", 404, `Key '${name}' (${existing.id}) was deleted meanwhile.`);
      await updateKey(env, found.hash, keyRecordWith(found.record, settings));
      return { ...ch, id: existing.id };
    }
  }
}

async function remove(env: CloudflareBindings, snapshot: Snapshot, ch: Change): Promise<Applied> {
  switch (ch.kind) {
    case "provider":
      await deleteProvider(env, ch.name);
      return ch;
    case "team":
      await deleteTeam(env, ch.name);
      return ch;
    case "route":
      await deleteRoute(env, ch.name);
      return ch;
    case "key": {
      // Pruning deletes every key of the name, duplicates included: none of them is in the document.
      for (const record of snapshot.keys.get(ch.name) ?? []) {
        const found = await keys.byId(env, record.id);
        if (found) await deleteKey(env, found.hash, found.record);
      }
      return ch;
    }
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined)
    throw new GatewayError("internal", 500, "A planned change lost its document entry.");
  return value;
}

adminConfig.put("/", async (c) => {
  const q = parseWith(ConfigQuery, c.req.query(), "query");
  const dryRun = q.dryRun === "true";
  const prune = q.prune === "true";
  const doc = await readJson(c, ConfigDocument);
  const snapshot = await snapshotOf(c.env);
  refuseDuplicates(duplicateKeyNames(snapshot).filter((d) => doc.keys !== undefined && d.name in doc.keys));
  refuse(documentIssues(snapshot, doc, prune));
  const planned = planChanges(snapshot, doc, prune);
  const changes = dryRun ? planned : await apply(c.env, snapshot, doc, planned);
  const warnings = documentWarnings(snapshot, doc, prune, secretChecker(c.env));
  return c.json(withWarnings({ dryRun, prune, changes }, warnings));
});
