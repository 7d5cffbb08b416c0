#!/usr/bin/env node
/**
 * `npx bricklane`: a thin command line over the gateway's admin API. The gateway's URL and admin token
 * come from BRICKLANE_URL and BRICKLANE_ADMIN_TOKEN (never from arguments, which land in shell history).
 * Exit codes: 0 done, 1 the gateway refused or failed, 2 a usage mistake.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const HELP = `Usage: bricklane <command> [options]

Environment: BRICKLANE_URL (e.g. https://bricklane.<sub>.workers.dev), BRICKLANE_ADMIN_TOKEN

Commands:
  export                              the whole configuration as JSON (stdout)
  apply FILE [--dry-run] [--prune]    make the configuration match FILE (- reads stdin)
  keys list
  keys create NAME [--team T] [--providers a,b] [--models p/m,route] [--expires ISO]
                   [--rpm N] [--tpm N] [--concurrent N] [--budget USD --period day|week|month]
  keys disable ID|NAME                keys enable ID|NAME
  keys delete ID|NAME
  usage [--key ID|--team T|--provider P] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
  calls [--key ID] [--team T] [--provider P] [--model M] [--status N] [--from ISO] [--to ISO] [--limit N]

Options: --json prints the API's answer as it came; --help`;

/** A failure to report: `exit` 2 for usage mistakes, 1 for the gateway's refusals. */
class Failure extends Error {
  /** @param {string} message @param {number} exit @param {Array<{path: string, message: string}>} [issues] */
  constructor(message, exit, issues = []) {
    super(message);
    this.exit = exit;
    this.issues = issues;
  }
}

const usageError = (/** @type {string} */ message) => new Failure(`${message}\n\n${HELP}`, 2);

function connection() {
  const url = process.env.BRICKLANE_URL;
  const token = process.env.BRICKLANE_ADMIN_TOKEN;
  if (!url || !token) {
    throw new Failure("Set BRICKLANE_URL and BRICKLANE_ADMIN_TOKEN to the gateway's URL and admin token.", 2);
  }
  return { url: url.replace(/\/+$/, ""), token };
}

/**
 * One admin API call; the answer's JSON, or a Failure carrying the gateway's message and issues.
 * @param {string} method @param {string} path @param {unknown} [body]
 */
async function api(method, path, body) {
  const { url, token } = connection();
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new Failure(`Cannot reach ${url}: ${e instanceof Error ? (e.cause ?? e.message) : String(e)}`, 1);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported as text below
  }
  if (!res.ok) {
    const message = json?.error?.message ?? (text.slice(0, 500) || res.statusText);
    throw new Failure(`${method} ${path} answered ${res.status}: ${message}`, 1, json?.error?.issues ?? []);
  }
  return json;
}

/** @param {Record<string, string | undefined>} params */
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A plain text table: columns padded to their widest cell. @param {string[]} head @param {string[][]} rows */
function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (/** @type {string[]} */ cells) =>
    cells.map((c, i) => (c ?? "").padEnd(widths[i] ?? 0)).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const list = (/** @type {string | undefined} */ v) =>
  v
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
const int = (/** @type {string | undefined} */ v, /** @type {string} */ name) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usageError(`--${name} takes a number, not '${v}'.`);
  return n;
};

const OPTIONS = /** @type {const} */ ({
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "dry-run": { type: "boolean" },
  prune: { type: "boolean" },
  team: { type: "string" },
  providers: { type: "string" },
  models: { type: "string" },
  expires: { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  concurrent: { type: "string" },
  budget: { type: "string" },
  period: { type: "string" },
  key: { type: "string" },
  provider: { type: "string" },
  model: { type: "string" },
  status: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  limit: { type: "string" },
});

/** A key by id, or by name when exactly one key has it. @param {string} ref */
async function findKey(ref) {
  if (/^key_[a-z0-9]{16}$/.test(ref)) return ref;
  const keys = (await api("GET", "/admin/keys")).data;
  const matches = keys.filter((/** @type {{name: string}} */ k) => k.name === ref);
  if (matches.length === 1) return matches[0].id;
  throw new Failure(
    matches.length ? `Several keys are named '${ref}'; give an id.` : `No key has the id or name '${ref}'.`,
    1,
  );
}

/** @param {string[]} args @param {Record<string, string | boolean | undefined>} opts */
async function run(args, opts) {
  const [command, sub, ...rest] = args;
  const out = (/** @type {unknown} */ value, /** @type {() => string} */ text) =>
    console.log(opts.json ? JSON.stringify(value, null, 2) : text());

  switch (command) {
    case "export":
      return console.log(JSON.stringify(await api("GET", "/admin/config"), null, 2));

    case "apply": {
      if (!sub) throw usageError("apply needs a FILE (or - for stdin).");
      let doc;
      try {
        doc = JSON.parse(readFileSync(sub === "-" ? 0 : sub, "utf8"));
      } catch (e) {
        throw new Failure(`Cannot read ${sub} as JSON: ${e instanceof Error ? e.message : String(e)}`, 2);
      }
      const res = await api(
        "PUT",
        `/admin/config${query({ dryRun: opts["dry-run"] ? "true" : undefined, prune: opts.prune ? "true" : undefined })}`,
        doc,
      );
      for (const w of res.warnings ?? []) console.error(`warning: ${w}`);
      return out(res, () => {
        const verb = res.dryRun ? "would" : "did";
        if (!res.changes.length)
          return `No changes${res.dryRun ? " to make" : ""}: the gateway already matches.`;
        const lines = res.changes.map(
          (ch) =>
            `${verb} ${ch.action} ${ch.kind} '${ch.name}'${ch.fields ? ` (${ch.fields.join(", ")})` : ""}` +
            (ch.key ? `\n    key: ${ch.key}   <- shown once; store it now` : ""),
        );
        return lines.join("\n");
      });
    }

    case "keys":
      switch (sub) {
        case "list": {
          const res = await api("GET", "/admin/keys");
          return out(res, () =>
            table(
              ["ID", "NAME", "STATUS", "TEAM", "PREVIEW", "CREATED"],
              res.data.map((k) => [k.id, k.name, k.status, k.team ?? "", k.preview, k.createdAt]),
            ),
          );
        }
        case "create": {
          const name = rest[0];
          if (!name) throw usageError("keys create needs a NAME.");
          if (opts.budget !== undefined && !opts.period)
            throw usageError("--budget needs --period day|week|month.");
          const limits = {
            rpm: int(opts.rpm, "rpm"),
            tpm: int(opts.tpm, "tpm"),
            maxConcurrent: int(opts.concurrent, "concurrent"),
            budget:
              opts.budget === undefined
                ? undefined
                : { usd: int(opts.budget, "budget"), period: opts.period },
          };
          const hasLimits = Object.values(limits).some((v) => v !== undefined);
          const res = await api("POST", "/admin/keys", {
            name,
            team: opts.team,
            providers: list(opts.providers),
            models: list(opts.models),
            expiresAt: opts.expires,
            limits: hasLimits ? limits : undefined,
          });
          for (const w of res.warnings ?? []) console.error(`warning: ${w}`);
          return out(
            res,
            () => `Created key '${res.name}' (${res.id}). Store it now, it is shown once:\n${res.key}`,
          );
        }
        case "disable":
        case "enable": {
          if (!rest[0]) throw usageError(`keys ${sub} needs an ID or NAME.`);
          const id = await findKey(rest[0]);
          const res = await api("PATCH", `/admin/keys/${id}`, { disabled: sub === "disable" });
          return out(res, () => `Key '${res.name}' (${res.id}) is ${res.status}.`);
        }
        case "delete": {
          if (!rest[0]) throw usageError("keys delete needs an ID or NAME.");
          const id = await findKey(rest[0]);
          const res = await api("DELETE", `/admin/keys/${id}`);
          return out(res, () => `Deleted key ${res.id}.`);
        }
        default:
          throw usageError(
            sub ? `Unknown keys command '${sub}'.` : "keys needs list, create, disable, enable or delete.",
          );
      }

    case "usage": {
      const res = await api(
        "GET",
        `/admin/usage${query({ key: opts.key, team: opts.team, provider: opts.provider, from: opts.from, to: opts.to })}`,
      );
      return out(res, () => {
        const t = res.total;
        const rows = res.data.map((r) => [
          r.day,
          r.provider,
          r.model,
          String(r.requests),
          String(r.inputTokens),
          String(r.outputTokens),
          r.costUsd.toFixed(4),
          String(r.errors),
        ]);
        return [
          `${res.scope.kind === "all" ? "whole gateway" : `${res.scope.kind} ${res.scope.name}`}, ${res.from} to ${res.to}`,
          table(["DAY", "PROVIDER", "MODEL", "CALLS", "IN", "OUT", "COST_USD", "ERRORS"], rows),
          `total: ${t.requests} calls, ${t.inputTokens} in, ${t.outputTokens} out, $${t.costUsd.toFixed(4)}, ${t.errors} errors`,
        ].join("\n");
      });
    }

    case "calls": {
      const res = await api(
        "GET",
        `/admin/calls${query({
          key: opts.key,
          team: opts.team,
          provider: opts.provider,
          model: opts.model,
          status: opts.status,
          from: opts.from,
          to: opts.to,
          limit: opts.limit,
        })}`,
      );
      return out(
        res,
        () =>
          table(
            ["TIME", "STATUS", "KEY", "TEAM", "MODEL", "IN", "OUT", "COST_USD", "MS", "FIRST_BYTE_MS"],
            res.data.map((c) => [
              String(c.time),
              String(c.status),
              c.keyName ?? c.keyId ?? "",
              c.team ?? "",
              `${c.provider}/${c.model}`,
              String(c.inputTokens ?? ""),
              String(c.outputTokens ?? ""),
              c.costUsd === undefined ? "" : Number(c.costUsd).toFixed(4),
              String(c.durationMs ?? ""),
              String(c.firstByteMs ?? ""),
            ]),
          ) + (res.nextCursor ? "\n(more: narrow the filters or raise --limit)" : ""),
      );
    }

    default:
      throw usageError(command ? `Unknown command '${command}'.` : "No command given.");
  }
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values.help) return console.log(HELP);
  await run(parsed.positionals, parsed.values);
}

main().catch((e) => {
  if (e instanceof Failure) {
    console.error(`error: ${e.message}`);
    for (const issue of e.issues) console.error(`  ${issue.path || "(body)"}: ${issue.message}`);
    process.exitCode = e.exit;
  } else {
    console.error(e);
    process.exitCode = 1;
  }
});
