import { applyD1Migrations, env } from "cloudflare:test";
import { inject } from "vitest";

// Before each test file: the call log's table, as `wrangler d1 migrations apply` creates it. Applying is
// idempotent (applied migrations are recorded in d1_migrations).
await applyD1Migrations(env.CALLS_DB, inject("d1Migrations"));
