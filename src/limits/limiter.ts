import { DurableObject } from "cloudflare:workers";

/**
 * One Limiter per virtual key (named `key:<id>`). For now it is the authority for the key's status:
 * KV is eventually consistent (up to ~60 s between locations), so revoking or disabling a key is written
 * here too, and every call asks here before going upstream. Limits and usage join it later.
 */

export type KeyStatus = "active" | "disabled" | "deleted";

export type KeyState = {
  status: KeyStatus;
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
};

export type AdmitResult =
  { ok: true } | { ok: false; reason: "disabled" | "deleted" | "expired"; retryAfterMs: null };

const SCHEMA_VERSION = 1;

export class Limiter extends DurableObject<CloudflareBindings> {
  private readonly sql: SqlStorage;
  /** SQLite is the durable copy; this is the same row kept in memory, since every call reads it. */
  private state: KeyState | null | undefined;

  constructor(ctx: DurableObjectState, env: CloudflareBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.migrate());
  }

  private migrate(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
    const row = this.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = 'schema'").toArray()[0];
    const version = row?.v ?? 0;
    if (version < 1) {
      this.sql.exec(
        `CREATE TABLE IF NOT EXISTS key_state (
           id INTEGER PRIMARY KEY CHECK (id = 1),
           status TEXT NOT NULL,
           expires_at INTEGER
         )`,
      );
    }
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', ?)", SCHEMA_VERSION);
  }

  private readState(): KeyState | null {
    if (this.state !== undefined) return this.state;
    const row = this.sql
      .exec<{ status: string; expires_at: number | null }>("SELECT status, expires_at FROM key_state")
      .toArray()[0];
    if (!row) return (this.state = null);
    const status: KeyStatus =
      row.status === "deleted" ? "deleted" : row.status === "disabled" ? "disabled" : "active";
    return (this.state = { status, expiresAt: row.expires_at });
  }

  /** Called by the admin API on every create, change and delete of the key. A deleted key stays deleted. */
  async setState(state: KeyState): Promise<KeyState> {
    const current = this.readState();
    const next: KeyState = current?.status === "deleted" ? current : state;
    this.sql.exec(
      "INSERT OR REPLACE INTO key_state (id, status, expires_at) VALUES (1, ?, ?)",
      next.status,
      next.expiresAt,
    );
    this.state = next;
    return next;
  }

  async getState(): Promise<KeyState | null> {
    return this.readState();
  }

  /**
   * Admission for one call. `fromKv` is what this isolate read from KV; it only seeds a Limiter that has
   * never been told about the key (e.g. state lost), never overrides what the admin API wrote here.
   */
  async admit(fromKv: KeyState, now: number = Date.now()): Promise<AdmitResult> {
    const state = this.readState() ?? (await this.setState(fromKv));
    if (state.status === "deleted") return { ok: false, reason: "deleted", retryAfterMs: null };
    if (state.status === "disabled") return { ok: false, reason: "disabled", retryAfterMs: null };
    if (state.expiresAt !== null && state.expiresAt <= now) {
      return { ok: false, reason: "expired", retryAfterMs: null };
    }
    return { ok: true };
  }
}
