import { DurableObject } from "cloudflare:workers";
import type { Limits } from "../config/schemas";
import { LEASE_MS, grantSize } from "./grants";
import type { UsageCounts } from "./usage-counts";
import {
  WINDOW_MS,
  dayOf,
  insertEntry,
  msUntilBelow,
  periodOf,
  prune,
  tpmCount,
  windowSum,
  windowTokens,
  type WindowEntry,
  type WindowTokens,
} from "./windows";

/**
 * One Limiter per scope: a virtual key (`key:<id>`), a team (`team:<name>`) or a provider
 * (`provider:<name>`). One object owns each counter, so limits are exact: calls are admitted one at a
 * time, in order, with no replicas to disagree. For keys it is also the authority for revocation, since KV
 * takes up to a minute to reach every location.
 *
 * Requests and tokens have separate sliding one-minute windows; budgets are per calendar period (UTC).
 * Only the counters of limits that are set are kept, so a scope without limits costs a lookup, not a write.
 *
 * Isolates do not ask once per call: they hold a lease (`lease`), a number of requests they may admit
 * on their own for up to a second, and send usage in batches (`flush`). Scopes with a concurrency cap are
 * the exception: their calls are admitted (`admit`) and released one by one, since a slot held by an
 * isolate cannot be known to be free without asking.
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

/** One finished call, as usage counts it: tokens as in `Usage` (cache reads and writes part of input). */
export type CallUsage = {
  provider: string;
  model: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
  error: boolean;
};

export type UsageRow = UsageCounts & { day: string; provider: string; model: string };

export type LeaseRequest = {
  /** Leases the holder no longer admits from, with how many requests of each it used. */
  returns: { grantId: string; used: number }[];
  /** How many requests the holder expects to admit within one lease. */
  want: number;
  /** What the holder read from KV; configures an object that lost its state, like `admit`'s. */
  seed: ScopeConfig | null;
};

/** What a lease lets its holder count against, besides requests: the totals when it was granted. */
export type LeaseTotals = { tokens: number; spentUsd: number };

export type LeaseResult =
  | {
      ok: true;
      /**
       * `lease`: admit locally up to `count` requests (null: no request limit) until `ttlMs` from now.
       * `perCall`: the scope caps concurrency, so each call must be admitted here.
       */
      mode: "lease" | "perCall";
      grantId: string | null;
      count: number | null;
      ttlMs: number;
      limits: Limits | null;
      totals: LeaseTotals;
      rate: RateInfo;
    }
  | Extract<AdmitResult, { ok: false }>;

/** One flush of an isolate's usage for this scope: many calls, applied once (`id` makes a retry safe). */
export type UsageBatch = WindowTokens & {
  id: string;
  rows: UsageRow[];
  /** The batch's cost, for the budget; its tokens (above) are for the token window. */
  costUsd: number;
  /** Concurrency slots of finished calls. */
  releases: string[];
};

/** OpenAI's x-ratelimit-reset-*: until the window is back to its initial state (the newest entry left). */
function untilEmpty(entries: readonly WindowEntry[], now: number): number {
  const newest = entries[entries.length - 1];
  return newest ? Math.max(0, newest.ts + WINDOW_MS - now) : 0;
}

/** Concurrency slots not released within this time (a crashed isolate) are freed anyway. */
const LEASE_TTL_MS = 15 * 60_000;
/** A retried flush is recognised by its id for this long. */
const FLUSH_ID_TTL_MS = 10 * 60_000;
const SCHEMA_VERSION = 4;

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
    if (version < 3) {
      // Request windows hold leases too: an entry may stand for several requests and name its grant.
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS request_window (ts INTEGER NOT NULL, amount INTEGER NOT NULL, grant_id TEXT)",
      );
      this.sql.exec("INSERT INTO request_window (ts, amount) SELECT ts, 1 FROM request_log");
      this.sql.exec("DROP TABLE IF EXISTS request_log");
      this.sql.exec("CREATE TABLE IF NOT EXISTS flushed (id TEXT PRIMARY KEY, ts INTEGER NOT NULL)");
      this.sql.exec("CREATE INDEX IF NOT EXISTS flushed_ts ON flushed (ts)");
    }
    if (version < 4) {
      // The cache's share of input and the reasoning share of output; rows written before stay at 0.
      for (const column of ["cache_read_tokens", "cache_write_tokens", "reasoning_tokens"]) {
        this.sql.exec(`ALTER TABLE usage ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
      }
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
    this.sql.exec("DELETE FROM request_window WHERE ts <= ?", since);
    this.sql.exec("DELETE FROM token_log WHERE ts <= ?", since);
    this.requests = this.sql
      .exec<{ ts: number; amount: number; grant_id: string | null }>(
        "SELECT ts, amount, grant_id FROM request_window ORDER BY ts",
      )
      .toArray()
      .map((r) =>
        r.grant_id ? { ts: r.ts, amount: r.amount, grant: r.grant_id } : { ts: r.ts, amount: r.amount },
      );
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
      // Requests leased to isolates count as used until their lease's holder says otherwise.
      const used = windowSum(this.requests);
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
   * What stops any admission now, in order: status first (keys), then concurrency, requests, tokens and
   * budget. `requests` is how many requests the admission needs (0 when only a lease's status matters).
   */
  private refusal(now: number, requests: number): Extract<AdmitResult, { ok: false }> | null {
    const config = this.config;
    const refuse = (reason: RefusalReason, retryAfterMs: number | null) => ({
      ok: false as const,
      reason,
      retryAfterMs,
      rate: this.rate(now),
    });
    if (config?.status === "deleted") return refuse("deleted", null);
    if (config?.status === "disabled") return refuse("disabled", null);
    if (config?.expiresAt != null && config.expiresAt <= now) return refuse("expired", null);
    const limits = config?.limits;
    if (!limits) return null;
    if (limits.maxConcurrent !== undefined && this.leases.size >= limits.maxConcurrent) {
      return refuse("concurrency", 1000);
    }
    if (limits.rpm !== undefined && windowSum(this.requests) + requests > limits.rpm) {
      return refuse("rpm", msUntilBelow(this.requests, limits.rpm, now));
    }
    if (limits.tpm !== undefined && windowSum(this.tokens) >= limits.tpm) {
      return refuse("tpm", msUntilBelow(this.tokens, limits.tpm, now));
    }
    if (limits.budget) {
      const { key, endsAt } = periodOf(limits.budget.period, now);
      if ((this.spend.get(key) ?? 0) >= limits.budget.usd) return refuse("budget", endsAt - now);
    }
    return null;
  }

  private prepare(now: number): void {
    prune(this.requests, now);
    prune(this.tokens, now);
    this.reapLeases(now);
  }

  private addRequests(entry: WindowEntry): void {
    insertEntry(this.requests, entry);
    this.sql.exec(
      "INSERT INTO request_window (ts, amount, grant_id) VALUES (?, ?, ?)",
      entry.ts,
      entry.amount,
      entry.grant ?? null,
    );
  }

  /**
   * Admission for one call, for scopes whose calls are admitted one by one (a concurrency cap). An
   * admitted call is counted at once (so concurrent calls see each other) and holds a concurrency slot
   * until `release` or a flush names it. `seed` is what the caller read from KV; it only initialises an
   * object that has never been configured (state lost), never overrides what the admin API wrote here.
   */
  async admit(seed: ScopeConfig | null, now: number = Date.now()): Promise<AdmitResult> {
    if (!this.config && seed) await this.configure(seed);
    this.prepare(now);
    const refused = this.refusal(now, 1);
    if (refused) return refused;
    const limits = this.config?.limits;
    let leaseId: string | null = null;
    if (limits?.rpm !== undefined) this.addRequests({ ts: now, amount: 1 });
    if (limits?.maxConcurrent !== undefined) {
      leaseId = crypto.randomUUID();
      this.leases.set(leaseId, now);
    }
    return { ok: true, leaseId, admittedAt: now, rate: this.rate(now) };
  }

  /**
   * A lease for an isolate: the scope's status, its totals, and (with `rpm`) a number of requests the
   * isolate may admit on its own until the lease expires. The requests are one window entry stamped at
   * the expiry, so however late the holder uses them they stay in the window a full minute; the holder
   * reports what it used when it stops using a lease (`returns`), and the rest comes back.
   */
  async lease(req: LeaseRequest, now: number = Date.now()): Promise<LeaseResult> {
    if (!this.config && req.seed) await this.configure(req.seed);
    this.giveBackUnused(req.returns, now);
    this.prepare(now);
    const config = this.config;
    const limits = config?.limits ?? null;
    const ttlMs = Math.max(0, Math.min(LEASE_MS, (config?.expiresAt ?? Infinity) - now));
    const refused = this.refusal(now, limits?.maxConcurrent !== undefined ? 0 : 1);
    if (refused) return refused;
    const totals = {
      tokens: windowSum(this.tokens),
      spentUsd: limits?.budget ? (this.spend.get(periodOf(limits.budget.period, now).key) ?? 0) : 0,
    };
    const granted = { ok: true as const, grantId: null, count: null, ttlMs, limits, totals };
    if (limits?.maxConcurrent !== undefined) return { ...granted, mode: "perCall", rate: this.rate(now) };
    if (limits?.rpm === undefined) return { ...granted, mode: "lease", rate: this.rate(now) };
    const count = grantSize(limits.rpm, windowSum(this.requests), req.want);
    const grantId = crypto.randomUUID();
    this.addRequests({ ts: now + ttlMs, amount: count, grant: grantId });
    return { ...granted, mode: "lease", grantId, count, rate: this.rate(now) };
  }

  /**
   * Shrinks each returned lease's entry to what its holder used, and moves it back to now if its expiry
   * is later: a returned lease is no longer used, so every request of it was used before now.
   */
  private giveBackUnused(returns: LeaseRequest["returns"], now: number): void {
    for (const { grantId, used } of returns) {
      const i = this.requests.findIndex((e) => e.grant === grantId);
      const entry = this.requests[i];
      if (!entry) continue;
      const kept = Math.min(entry.amount, Math.max(0, Math.floor(used)));
      this.requests.splice(i, 1);
      if (kept === 0) {
        this.sql.exec("DELETE FROM request_window WHERE grant_id = ?", grantId);
        continue;
      }
      const ts = Math.min(entry.ts, now);
      insertEntry(this.requests, { ts, amount: kept, grant: grantId });
      this.sql.exec("UPDATE request_window SET amount = ?, ts = ? WHERE grant_id = ?", kept, ts, grantId);
    }
  }

  /**
   * Ends a call that did not reach the upstream (refused by another scope, or a bad request): its slot is
   * freed and, with `refund`, its request no longer counts.
   */
  async release(leaseId: string | null, refund: boolean, admittedAt: number): Promise<void> {
    if (leaseId) this.leases.delete(leaseId);
    if (!refund || this.config?.limits?.rpm === undefined) return;
    const i = this.requests.findIndex((e) => e.ts === admittedAt && e.grant === undefined);
    if (i >= 0) {
      this.requests.splice(i, 1);
      this.sql.exec(
        "DELETE FROM request_window WHERE rowid = (SELECT rowid FROM request_window WHERE ts = ? AND grant_id IS NULL LIMIT 1)",
        admittedAt,
      );
    }
  }

  /** Records one finished call (a batch of one): frees its slot, counts its tokens, cost and usage. */
  async record(leaseId: string | null, call: CallUsage, now: number = Date.now()): Promise<void> {
    await this.flush(
      {
        id: crypto.randomUUID(),
        rows: [
          {
            day: dayOf(now),
            provider: call.provider,
            model: call.model,
            requests: 1,
            inputTokens: call.inputTokens,
            cacheReadTokens: call.cacheReadTokens,
            cacheWriteTokens: call.cacheWriteTokens,
            outputTokens: call.outputTokens,
            reasoningTokens: call.reasoningTokens,
            costUsd: call.costUsd,
            errors: call.error ? 1 : 0,
          },
        ],
        ...windowTokens(call),
        costUsd: call.costUsd,
        releases: leaseId ? [leaseId] : [],
      },
      now,
    );
  }

  /**
   * Applies an isolate's batch of finished calls at once: frees their slots, counts their tokens and
   * cost (at the time of the flush, which is never earlier than the calls), adds them to the days' usage.
   * A batch already applied (a retry whose first try did arrive) is ignored.
   */
  async flush(batch: UsageBatch, now: number = Date.now()): Promise<void> {
    this.sql.exec("DELETE FROM flushed WHERE ts <= ?", now - FLUSH_ID_TTL_MS);
    if (this.sql.exec("SELECT 1 FROM flushed WHERE id = ?", batch.id).toArray().length > 0) return;
    this.sql.exec("INSERT INTO flushed (id, ts) VALUES (?, ?)", batch.id, now);
    for (const id of batch.releases) this.leases.delete(id);
    const limits = this.config?.limits;
    const tokens = tpmCount(batch, limits);
    if (limits?.tpm !== undefined && tokens > 0) {
      insertEntry(this.tokens, { ts: now, amount: tokens });
      this.sql.exec("INSERT INTO token_log (ts, tokens) VALUES (?, ?)", now, tokens);
    }
    if (limits?.budget && batch.costUsd > 0) {
      const { key } = periodOf(limits.budget.period, now);
      const spent = (this.spend.get(key) ?? 0) + batch.costUsd;
      this.spend.set(key, spent);
      this.sql.exec("INSERT OR REPLACE INTO spend (period, usd) VALUES (?, ?)", key, spent);
    }
    for (const row of batch.rows) {
      this.sql.exec(
        `INSERT INTO usage (day, provider, model, requests, input_tokens, cache_read_tokens,
           cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, errors)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (day, provider, model) DO UPDATE SET
           requests = requests + excluded.requests, input_tokens = input_tokens + excluded.input_tokens,
           cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
           cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
           output_tokens = output_tokens + excluded.output_tokens,
           reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
           cost_usd = cost_usd + excluded.cost_usd, errors = errors + excluded.errors`,
        row.day,
        row.provider,
        row.model,
        row.requests,
        row.inputTokens,
        row.cacheReadTokens,
        row.cacheWriteTokens,
        row.outputTokens,
        row.reasoningTokens,
        row.costUsd,
        row.errors,
      );
    }
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
        cache_read_tokens: number;
        cache_write_tokens: number;
        output_tokens: number;
        reasoning_tokens: number;
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
        cacheReadTokens: r.cache_read_tokens,
        cacheWriteTokens: r.cache_write_tokens,
        outputTokens: r.output_tokens,
        reasoningTokens: r.reasoning_tokens,
        costUsd: r.cost_usd,
        errors: r.errors,
      }));
  }

  /** The live window counters and budget, for the admin API. */
  async live(now: number = Date.now()): Promise<RateInfo> {
    this.prepare(now);
    return this.rate(now);
  }
}
