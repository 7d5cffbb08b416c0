import { DurableObject } from "cloudflare:workers";
import type { Limits } from "../config/schemas";
import { WINDOW_MS, dayOf, msUntilBelow, periodOf, prune, windowSum, type WindowEntry } from "./windows";

/**
 * One Limiter per scope: a virtual key (`key:<id>`), a team (`team:<name>`) or a provider
 * (`provider:<name>`). One object owns each counter, so limits are exact: calls are admitted one at a
 * time, in order, with no replicas to disagree. For keys it is also the authority for revocation, since KV
 * takes up to a minute to reach every location.
 *
 * Requests and tokens have separate sliding one-minute windows; budgets are per calendar period (UTC).
 * Only the counters of limits that are set are kept, so a scope without limits costs a lookup, not a write.
 */

export type KeyStatus = "active" | "disabled" | "deleted";

export type ScopeConfig = {
  status: KeyStatus;
  /** Epoch ms, or null for no expiry (keys only). */
  expiresAt: number | null;
  limits: Limits | null;
};

export type RateInfo = {
  requests?: { limit: number; remaining: number; resetMs: number };
  tokens?: { limit: number; remaining: number; resetMs: number };
  budget?: { usd: number; spentUsd: number; period: string; resetsAt: number };
  concurrency?: { limit: number; inFlight: number };
};

export type RefusalReason = "deleted" | "disabled" | "expired" | "rpm" | "tpm" | "concurrency" | "budget";

export type AdmitResult =
  | { ok: true; leaseId: string | null; admittedAt: number; rate: RateInfo }
  | { ok: false; reason: RefusalReason; retryAfterMs: number | null; rate: RateInfo };

export type CallUsage = {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  error: boolean;
};

export type UsageRow = Omit<CallUsage, "error"> & { day: string; requests: number; errors: number };

/** OpenAI's x-ratelimit-reset-*: until the window is back to its initial state (the newest entry left). */
function untilEmpty(entries: readonly WindowEntry[], now: number): number {
  const newest = entries[entries.length - 1];
  return newest ? Math.max(0, newest.ts + WINDOW_MS - now) : 0;
}

/** Concurrency slots not released within this time (a crashed isolate) are freed anyway. */
const LEASE_TTL_MS = 15 * 60_000;
const SCHEMA_VERSION = 2;

export class Limiter extends DurableObject<CloudflareBindings> {
  private readonly sql: SqlStorage;
  // SQLite is the durable copy; these are the same rows in memory, read on every call.
  private config: ScopeConfig | null = null;
  private requests: WindowEntry[] = [];
  private tokens: WindowEntry[] = [];
  private readonly spend = new Map<string, number>();
  /** Concurrency leases: in memory only; a restarted object starts with none in flight. */
  private readonly leases = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.migrate();
      this.load();
    });
  }

  private migrate(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
    const row = this.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = 'schema'").toArray()[0];
    const version = row?.v ?? 0;
    if (version < 1) {
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS key_state (id INTEGER PRIMARY KEY CHECK (id = 1), status TEXT NOT NULL, expires_at INTEGER)",
      );
    }
    if (version < 2) {
      this.sql.exec("ALTER TABLE key_state ADD COLUMN limits TEXT");
      this.sql.exec("CREATE TABLE IF NOT EXISTS request_log (ts INTEGER NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS token_log (ts INTEGER NOT NULL, tokens INTEGER NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS spend (period TEXT PRIMARY KEY, usd REAL NOT NULL)");
      this.sql.exec(
        `CREATE TABLE IF NOT EXISTS usage (
           day TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
           requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
           cost_usd REAL NOT NULL, errors INTEGER NOT NULL,
           PRIMARY KEY (day, provider, model))`,
      );
    }
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', ?)", SCHEMA_VERSION);
  }

  private load(): void {
    const row = this.sql
      .exec<{ status: string; expires_at: number | null; limits: string | null }>(
        "SELECT status, expires_at, limits FROM key_state",
      )
      .toArray()[0];
    if (row) {
      const status: KeyStatus =
        row.status === "deleted" ? "deleted" : row.status === "disabled" ? "disabled" : "active";
      this.config = {
        status,
        expiresAt: row.expires_at,
        limits: row.limits ? (JSON.parse(row.limits) as Limits) : null,
      };
    }
    const since = Date.now() - WINDOW_MS;
    this.sql.exec("DELETE FROM request_log WHERE ts <= ?", since);
    this.sql.exec("DELETE FROM token_log WHERE ts <= ?", since);
    this.requests = this.sql
      .exec<{ ts: number }>("SELECT ts FROM request_log ORDER BY ts")
      .toArray()
      .map((r) => ({ ts: r.ts, amount: 1 }));
    this.tokens = this.sql
      .exec<{ ts: number; tokens: number }>("SELECT ts, tokens FROM token_log ORDER BY ts")
      .toArray()
      .map((r) => ({ ts: r.ts, amount: r.tokens }));
    for (const r of this.sql
      .exec<{ period: string; usd: number }>("SELECT period, usd FROM spend")
      .toArray()) {
      this.spend.set(r.period, r.usd);
    }
  }

  /** Written by the admin API on every create and change. A deleted scope stays deleted. */
  async configure(next: ScopeConfig): Promise<ScopeConfig> {
    const config = this.config?.status === "deleted" ? this.config : next;
    this.sql.exec(
      "INSERT OR REPLACE INTO key_state (id, status, expires_at, limits) VALUES (1, ?, ?, ?)",
      config.status,
      config.expiresAt,
      config.limits ? JSON.stringify(config.limits) : null,
    );
    this.config = config;
    return config;
  }

  async getConfig(): Promise<ScopeConfig | null> {
    return this.config;
  }

  private reapLeases(now: number): void {
    for (const [id, since] of this.leases) if (since <= now - LEASE_TTL_MS) this.leases.delete(id);
  }

  private rate(now: number): RateInfo {
    const limits = this.config?.limits;
    const info: RateInfo = {};
    if (!limits) return info;
    if (limits.rpm !== undefined) {
      const used = this.requests.length;
      info.requests = {
        limit: limits.rpm,
        remaining: Math.max(0, limits.rpm - used),
        resetMs: untilEmpty(this.requests, now),
      };
    }
    if (limits.tpm !== undefined) {
      const used = windowSum(this.tokens);
      info.tokens = {
        limit: limits.tpm,
        remaining: Math.max(0, limits.tpm - used),
        resetMs: untilEmpty(this.tokens, now),
      };
    }
    if (limits.budget) {
      const { key, endsAt } = periodOf(limits.budget.period, now);
      info.budget = {
        usd: limits.budget.usd,
        spentUsd: this.spend.get(key) ?? 0,
        period: key,
        resetsAt: endsAt,
      };
    }
    if (limits.maxConcurrent !== undefined) {
      info.concurrency = { limit: limits.maxConcurrent, inFlight: this.leases.size };
    }
    return info;
  }

  /**
   * Admission for one call: status first (keys), then concurrency, requests, tokens and budget. An admitted
   * call is counted at once (so concurrent calls see each other) and holds a concurrency lease until
   * `release` or `record`. `seed` is what the caller read from KV; it only initialises an object that has
   * never been configured (state lost), never overrides what the admin API wrote here.
   */
  async admit(seed: ScopeConfig | null, now: number = Date.now()): Promise<AdmitResult> {
    if (!this.config && seed) await this.configure(seed);
    const config = this.config;
    prune(this.requests, now);
    prune(this.tokens, now);
    this.reapLeases(now);
    const refuse = (reason: RefusalReason, retryAfterMs: number | null): AdmitResult => ({
      ok: false,
      reason,
      retryAfterMs,
      rate: this.rate(now),
    });
    if (config?.status === "deleted") return refuse("deleted", null);
    if (config?.status === "disabled") return refuse("disabled", null);
    if (config?.expiresAt != null && config.expiresAt <= now) return refuse("expired", null);

    const limits = config?.limits;
    if (limits) {
      if (limits.maxConcurrent !== undefined && this.leases.size >= limits.maxConcurrent) {
        return refuse("concurrency", 1000);
      }
      if (limits.rpm !== undefined && this.requests.length >= limits.rpm) {
        return refuse("rpm", msUntilBelow(this.requests, limits.rpm, now));
      }
      if (limits.tpm !== undefined && windowSum(this.tokens) >= limits.tpm) {
        return refuse("tpm", msUntilBelow(this.tokens, limits.tpm, now));
      }
      if (limits.budget) {
        const { key, endsAt } = periodOf(limits.budget.period, now);
        if ((this.spend.get(key) ?? 0) >= limits.budget.usd) return refuse("budget", endsAt - now);
      }
    }

    let leaseId: string | null = null;
    if (limits?.rpm !== undefined) {
      this.requests.push({ ts: now, amount: 1 });
      this.sql.exec("INSERT INTO request_log (ts) VALUES (?)", now);
    }
    if (limits?.maxConcurrent !== undefined) {
      leaseId = crypto.randomUUID();
      this.leases.set(leaseId, now);
    }
    return { ok: true, leaseId, admittedAt: now, rate: this.rate(now) };
  }

  /**
   * Ends a call that did not reach the upstream (refused by another scope, or a bad request): its slot is
   * freed and, with `refund`, its request no longer counts.
   */
  async release(leaseId: string | null, refund: boolean, admittedAt: number): Promise<void> {
    if (leaseId) this.leases.delete(leaseId);
    if (!refund || this.config?.limits?.rpm === undefined) return;
    const i = this.requests.findIndex((e) => e.ts === admittedAt);
    if (i >= 0) {
      this.requests.splice(i, 1);
      this.sql.exec(
        "DELETE FROM request_log WHERE rowid = (SELECT rowid FROM request_log WHERE ts = ? LIMIT 1)",
        admittedAt,
      );
    }
  }

  /** Records a finished call: frees its slot, counts its tokens and cost, adds it to the day's usage. */
  async record(leaseId: string | null, call: CallUsage, now: number = Date.now()): Promise<void> {
    if (leaseId) this.leases.delete(leaseId);
    const tokens = call.inputTokens + call.outputTokens;
    const limits = this.config?.limits;
    if (limits?.tpm !== undefined && tokens > 0) {
      this.tokens.push({ ts: now, amount: tokens });
      this.sql.exec("INSERT INTO token_log (ts, tokens) VALUES (?, ?)", now, tokens);
    }
    if (limits?.budget && call.costUsd > 0) {
      const { key } = periodOf(limits.budget.period, now);
      const spent = (this.spend.get(key) ?? 0) + call.costUsd;
      this.spend.set(key, spent);
      this.sql.exec("INSERT OR REPLACE INTO spend (period, usd) VALUES (?, ?)", key, spent);
    }
    this.sql.exec(
      `INSERT INTO usage (day, provider, model, requests, input_tokens, output_tokens, cost_usd, errors)
       VALUES (?, ?, ?, 1, ?, ?, ?, ?)
       ON CONFLICT (day, provider, model) DO UPDATE SET
         requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens,
         output_tokens = output_tokens + excluded.output_tokens, cost_usd = cost_usd + excluded.cost_usd,
         errors = errors + excluded.errors`,
      dayOf(now),
      call.provider,
      call.model,
      call.inputTokens,
      call.outputTokens,
      call.costUsd,
      call.error ? 1 : 0,
    );
  }

  /** Per day, provider and model, for days in [from, to] (YYYY-MM-DD, inclusive). */
  async usage(from: string, to: string): Promise<UsageRow[]> {
    return this.sql
      .exec<{
        day: string;
        provider: string;
        model: string;
        requests: number;
        input_tokens: number;
        output_tokens: number;
        cost_usd: number;
        errors: number;
      }>("SELECT * FROM usage WHERE day >= ? AND day <= ? ORDER BY day, provider, model", from, to)
      .toArray()
      .map((r) => ({
        day: r.day,
        provider: r.provider,
        model: r.model,
        requests: r.requests,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        costUsd: r.cost_usd,
        errors: r.errors,
      }));
  }

  /** The live window counters and budget, for the admin API. */
  async live(now: number = Date.now()): Promise<RateInfo> {
    prune(this.requests, now);
    prune(this.tokens, now);
    this.reapLeases(now);
    return this.rate(now);
  }
}
