import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Three projects, run by `npm test`:
 * - unit:   pure functions (translators, schemas, SSE) in Node, fast;
 * - worker: the Worker in workerd with real KV and Durable Objects (Workers vitest pool);
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
                DATABRICKS_PAT: "dapi-test-pat",
                MAX_BODY_BYTES: "65536",
                // Usage reaches the limiters within this (ms); tests that need batching pass their own.
                USAGE_FLUSH_MS: "10",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/setup/emulator.global.ts"],
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
