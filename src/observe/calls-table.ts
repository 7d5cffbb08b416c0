import type { CallRecord } from "./record";

/**
 * The D1 `calls` table (migrations/0001_calls.sql): recent calls for the admin API, newest first. Rows are
 * keyed by the call's id and written with INSERT OR IGNORE, so a batch the Queue delivers again adds nothing.
 */

const COLUMNS = [
  "id",
  "time",
  "request_id",
  "key_id",
  "key_name",
  "team",
  "route",
  "provider",
  "model",
  "request_type",
  "status",
  "stream",
  "outcome",
  "input_tokens",
  "output_tokens",
  "tokens_estimated",
  "cost_usd",
  "duration_ms",
  "first_byte_ms",
  "attempts",
  "error_code",
  "user_agent",
  "request_tags",
  "cache_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
] as const;

/**
 * Every row of a batch in one statement: the rows travel as one JSON array (one bound parameter, so D1's
 * limit of 100 parameters a statement never bites) and `json_each` unpacks them. One statement instead of
 * one per row: locally, where D1 runs beside the Worker, that took the table's cost per call from about
 * 50 µs of CPU to almost nothing (docs/observability.md).
 */
const INSERT = `INSERT OR IGNORE INTO calls (${COLUMNS.join(", ")}) SELECT ${COLUMNS.map((_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?)`;

function values(r: CallRecord): Array<string | number | null> {
  return [
    r.id,
    Date.parse(r.time),
    r.requestId,
    r.keyId,
    r.keyName,
    r.team,
    r.route,
    r.provider,
    r.model,
    r.requestType,
    r.status,
    r.stream ? 1 : 0,
    r.outcome,
    r.inputTokens,
    r.outputTokens,
    r.tokensEstimated ? 1 : 0,
    r.costUsd,
    r.durationMs,
    r.firstByteMs,
    r.attempts,
    r.errorCode,
    r.userAgent,
    r.requestTags === null ? null : JSON.stringify(r.requestTags),
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.reasoningTokens,
  ];
}

/** Every record of a batch, in one statement (one implicit transaction). */
export async function insertCalls(db: D1Database, records: readonly CallRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db
    .prepare(INSERT)
    .bind(JSON.stringify(records.map(values)))
    .run();
}

/** One call as `GET /admin/calls` answers it. */
export type CallView = {
  id: string;
  requestId: string;
  time: string;
  keyId: string;
  keyName: string;
  team: string | null;
  route: string | null;
  provider: string;
  model: string;
  requestType: string;
  status: number;
  stream: boolean;
  outcome: string;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  tokensEstimated: boolean;
  costUsd: number;
  durationMs: number;
  firstByteMs: number | null;
  attempts: number;
  errorCode: string | null;
  userAgent: string | null;
  requestTags: Record<string, string> | null;
};

type Row = {
  id: string;
  time: number;
  request_id: string;
  key_id: string;
  key_name: string;
  team: string | null;
  route: string | null;
  provider: string;
  model: string;
  request_type: string;
  status: number;
  stream: number;
  outcome: string;
  input_tokens: number;
  output_tokens: number;
  tokens_estimated: number;
  cost_usd: number;
  duration_ms: number;
  first_byte_ms: number | null;
  attempts: number;
  error_code: string | null;
  user_agent: string | null;
  request_tags: string | null;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
};

function parseTags(text: string | null): Record<string, string> | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const tags: Record<string, string> = {};
  for (const [name, tag] of Object.entries(value)) if (typeof tag === "string") tags[name] = tag;
  return tags;
}

function view(row: Row): CallView {
  return {
    id: row.id,
    requestId: row.request_id,
    time: new Date(row.time).toISOString(),
    keyId: row.key_id,
    keyName: row.key_name,
    team: row.team,
    route: row.route,
    provider: row.provider,
    model: row.model,
    requestType: row.request_type,
    status: row.status,
    stream: row.stream === 1,
    outcome: row.outcome,
    inputTokens: row.input_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    outputTokens: row.output_tokens,
    reasoningTokens: row.reasoning_tokens,
    tokensEstimated: row.tokens_estimated === 1,
    costUsd: row.cost_usd,
    durationMs: row.duration_ms,
    firstByteMs: row.first_byte_ms,
    attempts: row.attempts,
    errorCode: row.error_code,
    userAgent: row.user_agent,
    requestTags: parseTags(row.request_tags),
  };
}

/** Where a page starts: after the call with this time and id, in newest-first order. */
export type CallCursor = { time: number; id: string };

export type CallFilter = {
  key?: string;
  team?: string;
  provider?: string;
  model?: string;
  status?: number;
  /** Epoch ms, inclusive. */
  fromMs?: number;
  /** Epoch ms, exclusive. */
  toMs?: number;
  after?: CallCursor;
  limit: number;
};

/** One page of calls, newest first, and where the next one starts (null on the last page). */
export async function queryCalls(
  db: D1Database,
  filter: CallFilter,
): Promise<{ data: CallView[]; next: CallCursor | null }> {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const equal = (column: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal("key_id", filter.key);
  equal("team", filter.team);
  equal("provider", filter.provider);
  equal("model", filter.model);
  equal("status", filter.status);
  if (filter.fromMs !== undefined) {
    where.push("time >= ?");
    params.push(filter.fromMs);
  }
  if (filter.toMs !== undefined) {
    where.push("time < ?");
    params.push(filter.toMs);
  }
  if (filter.after) {
    where.push("(time < ? OR (time = ? AND id < ?))");
    params.push(filter.after.time, filter.after.time, filter.after.id);
  }
  // One row more than asked says whether another page follows.
  const sql =
    `SELECT ${COLUMNS.join(", ")} FROM calls` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    " ORDER BY time DESC, id DESC LIMIT ?";
  const { results } = await db
    .prepare(sql)
    .bind(...params, filter.limit + 1)
    .all<Row>();
  const page = results.slice(0, filter.limit);
  const last = page.at(-1);
  const next = results.length > filter.limit && last ? { time: last.time, id: last.id } : null;
  return { data: page.map(view), next };
}

/** Rows deleted per statement, so one pass never holds the database for long. */
const DELETE_CHUNK = 5000;
/** At most this many chunks per run; a backlog bigger than that goes on the next run. */
const MAX_DELETE_CHUNKS = 20;

/** Deletes calls older than `beforeMs`; returns how many went. */
export async function deleteCallsBefore(db: D1Database, beforeMs: number): Promise<number> {
  const statement = db.prepare(
    "DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE time < ? ORDER BY time LIMIT ?)",
  );
  let deleted = 0;
  for (let i = 0; i < MAX_DELETE_CHUNKS; i++) {
    const result = await statement.bind(beforeMs, DELETE_CHUNK).run();
    const changes = result.meta.changes;
    deleted += changes;
    if (changes < DELETE_CHUNK) break;
  }
  return deleted;
}
