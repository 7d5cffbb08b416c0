#!/usr/bin/env node
// @ts-check
/**
 * CLI: `node tools/emulator/server.mjs [--port 8788] [--host 127.0.0.1]`.
 * Env: EMULATOR_PORT (default 8788), DATABRICKS_PAT (the bearer token it accepts), DATABRICKS_CLIENT_ID and
 * DATABRICKS_CLIENT_SECRET (the service principal its token endpoint knows), EMULATOR_TOKEN_LIFETIME_S.
 * Prints the URL and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { DEFAULT_PAT, startEmulator } from "./emulator.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string", short: "p" },
    host: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: node tools/emulator/server.mjs [--port 8788] [--host 127.0.0.1]");
  console.log(
    "env: EMULATOR_PORT, DATABRICKS_PAT, DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET, EMULATOR_TOKEN_LIFETIME_S",
  );
  process.exit(0);
}

const port = Number(values.port ?? process.env.EMULATOR_PORT ?? 8788);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`emulator: invalid port '${values.port ?? process.env.EMULATOR_PORT}'`);
  process.exit(2);
}

try {
  const emulator = await startEmulator({
    port,
    host: values.host ?? "127.0.0.1",
    pat: process.env.DATABRICKS_PAT || DEFAULT_PAT,
    oauth: {
      ...(process.env.DATABRICKS_CLIENT_ID && { clientId: process.env.DATABRICKS_CLIENT_ID }),
      ...(process.env.DATABRICKS_CLIENT_SECRET && { clientSecret: process.env.DATABRICKS_CLIENT_SECRET }),
      ...(process.env.EMULATOR_TOKEN_LIFETIME_S && {
        lifetimeS: Number(process.env.EMULATOR_TOKEN_LIFETIME_S),
      }),
    },
  });
  console.log(`Databricks AI Gateway emulator listening on ${emulator.url}`);
  console.log(`  OpenAI format:    ${emulator.url}/mlflow/v1/chat/completions`);
  console.log(`  Anthropic format: ${emulator.url}/anthropic/v1/messages`);
  console.log(`  OAuth tokens:     ${emulator.url}/oidc/v1/token`);
  console.log(`  Control API:      ${emulator.url}/__emulator/requests`);
  const stop = (/** @type {string} */ signal) => {
    console.log(`emulator: ${signal}, shutting down`);
    emulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  console.error(`emulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
