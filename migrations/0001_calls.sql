-- The call log's recent calls (src/observe/calls-table.ts): one row per call that reached an upstream,
-- kept for CALL_LOG_RETENTION_DAYS. `time` is epoch milliseconds; `id` is unique per call.
CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_name TEXT NOT NULL,
  team TEXT,
  route TEXT,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  request_type TEXT NOT NULL,
  status INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  tokens_estimated INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  duration_ms INTEGER NOT NULL,
  first_byte_ms INTEGER,
  attempts INTEGER NOT NULL,
  error_code TEXT,
  user_agent TEXT,
  request_tags TEXT
);

-- Newest first, overall and within each filter the admin API offers most.
CREATE INDEX calls_by_time ON calls (time DESC, id DESC);
CREATE INDEX calls_by_key ON calls (key_id, time DESC, id DESC);
CREATE INDEX calls_by_team ON calls (team, time DESC, id DESC);
CREATE INDEX calls_by_provider ON calls (provider, time DESC, id DESC);
