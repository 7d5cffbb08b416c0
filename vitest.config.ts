import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Three projects, run by `npm test`:
 * - unit:   pure functions (translators, schemas, SSE) in Node, fast;
 * - worker: the Worker in workerd with real KV, Durable Objects, Queues, R2 and D1 (Workers vitest pool);
 * - e2e:    the real openai / @anthropic-ai/sdk clients against `wrangler dev` and tools/emulator.
 */
export default defineConfig({
  test: {
    // The Worker logs one JSON line per call; show logs only for tests that fail.
    silent: "passed-only",
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Property tests take a second or two alone; room for a machine busy with other work.
          testTimeout: 30_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Test values for the secrets; real ones come from `wrangler secret put`.
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                DATABRICKS_PAT: "dapi-test/pat+0123456789abcdef=",
                MAX_BODY_BYTES: "65536",
                // The service principal the test emulator knows (test/setup/emulator.global.ts), and a
                // secret it does not.
                DATABRICKS_CLIENT_ID: "bricklane-test-sp",
                DATABRICKS_CLIENT_SECRET: "emulator-test-sp-secret",
                WRONG_CLIENT_SECRET: "not-the-sp-secret",
                // Usage reaches the limiters within this (ms); tests that need batching pass their own.
                USAGE_FLUSH_MS: "10",
                // Likewise the call log's records reach its (recording) queue.
                CALL_LOG_FLUSH_MS: "10",
              },
              // Calls send their records to a queue nobody consumes here, so no consumer runs in the
              // background of unrelated tests; the call log's tests drive the consumer themselves
              // (createMessageBatch), and test/unit/queue-dead-letter.test.ts runs the real queue settings.
              queueProducers: { CALL_LOG: { queueName: "bricklane-calls-unconsumed-in-tests" } },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/setup/emulator.global.ts", "test/setup/d1.global.ts"],
          setupFiles: ["test/setup/d1-migrations.ts"],
          // One policy for every worker test, none of their own: each is sized to take seconds (the
          // longest, the fuzz test, about ten alone), and waits on events, never on polls; the limit is
          // there to turn a hang into a failure, with room for a 2-core machine busy with other suites.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // One wrangler dev + emulator pair is shared by the e2e files; run them one at a time.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
