// @ts-check
/**
 * Starts the Databricks emulator and the gateway (`wrangler dev`) together on loopback, for the e2e
 * tests, the demo and the bench.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/emulator.mjs";

/** @typedef {import("../emulator/emulator.mjs").Emulator} Emulator */
/**
 * @typedef {object} Gateway
 * @property {string} url e.g. http://127.0.0.1:PORT (no trailing slash)
 * @property {() => string} output what wrangler printed so far (stdout and stderr, last 64 KiB)
 * @property {() => Promise<void>} stop kills wrangler's process group and removes a temp persist dir
 */
/**
 * @typedef {object} Stack
 * @property {Emulator} emulator
 * @property {Gateway} gateway
 * @property {string} adminToken
 * @property {(method: string, path: string, body?: unknown) => Promise<{ status: number, json: unknown }>} admin
 *   a call to the gateway's admin API with the admin bearer token
 * @property {() => Promise<void>} stop
 */

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const STARTUP_TIMEOUT_MS = 60_000;
const OUTPUT_LIMIT = 64 * 1024;

/** Process groups still running, killed if this process exits without stopping them. */
const liveGroups = new Set(/** @type {number[]} */ ([]));
/** Temp persist dirs not removed yet. */
const liveDirs = new Set(/** @type {string[]} */ ([]));
/** stop() of every gateway and emulator started here and not stopped yet (also those still starting). */
const liveStops = new Set(/** @type {(() => Promise<void>)[]} */ ([]));
process.on("exit", () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Stops everything this module started, including a gateway that is still starting (for SIGINT
 * handlers).
 * @returns {Promise<void>}
 */
export async function stopAll() {
  await Promise.allSettled([...liveStops].map((stop) => stop()));
}

/**
 * A free TCP port on 127.0.0.1 (the OS picks it; it is released before this resolves).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = address !== null && typeof address === "object" ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}

/** @param {number} ms */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The D1 binding whose migrations (migrations/) the local stacks apply. */
const CALLS_DB = "CALLS_DB";

/**
 * Creates the call log's D1 table in a local persist dir, as `npm run dev` does before `wrangler dev`
 * (`wrangler d1 migrations apply CALLS_DB --local`; wrangler dev does not apply migrations itself).
 * @param {string} persistTo
 * @returns {Promise<void>}
 */
export async function applyLocalMigrations(persistTo) {
  const child = spawn(
    process.execPath,
    [WRANGLER, "d1", "migrations", "apply", CALLS_DB, "--local", "--persist-to", persistTo],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${output}`);
}

/**
 * Applies migrations/ to a D1 database of a Miniflare instance held in memory (the bench's).
 * @param {import("miniflare").Miniflare} mf
 */
async function migrateInMemory(mf) {
  const { readD1Migrations } = await import("@cloudflare/vitest-pool-workers");
  const db = await mf.getD1Database(CALLS_DB);
  for (const migration of await readD1Migrations(join(REPO_ROOT, "migrations"))) {
    for (const query of migration.queries) await db.prepare(query).run();
  }
}

/**
 * The Worker bundled by wrangler (as `wrangler deploy` would) and run by Miniflare directly, without
 * `wrangler dev`'s proxy in front: the closest this machine gets to how workerd serves it at the edge.
 * Bindings come from wrangler.toml; state is in memory. Used by the bench.
 * @param {{ vars?: Record<string, string> }} [options]
 * @returns {Promise<Gateway>}
 */
export async function startGatewayMiniflare({ vars = {} } = {}) {
  const outDir = await mkdtemp(join(tmpdir(), "bricklane-bundle-"));
  liveDirs.add(outDir);
  const build = spawn(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buildOutput = "";
  build.stdout.on("data", (c) => (buildOutput += c));
  build.stderr.on("data", (c) => (buildOutput += c));
  const code = await new Promise((resolve) => build.once("exit", resolve));
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${buildOutput}`);

  const { Miniflare } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, "wrangler.toml"));
  let output = "";
  const mf = new Miniflare({
    ...workerOptions,
    // The Worker's logs (one line per call) are kept, not printed: the bench's output is its table.
    /** @param {import("node:stream").Readable} stdout @param {import("node:stream").Readable} stderr */
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (/** @type {Buffer} */ chunk) => {
          output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
        });
      }
    },
    modules: true,
    scriptPath: join(outDir, "index.js"),
    modulesRoot: outDir,
    bindings: { ...workerOptions.bindings, ...vars },
    host: "127.0.0.1",
    port: await freePort(),
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  await migrateInMemory(mf);
  const stop = async () => {
    liveStops.delete(stop);
    await mf.dispose();
    await rm(outDir, { recursive: true, force: true });
    liveDirs.delete(outDir);
  };
  liveStops.add(stop);
  return { url, output: () => output, stop };
}

/**
 * Spawns `wrangler dev` on a free loopback port and waits until GET /health answers 200. The call log's
 * D1 migrations are applied to the persist dir first.
 * @param {{ vars?: Record<string, string>, persistDir?: string }} [options]
 *   vars: passed as `--var NAME:VALUE` (e.g. ADMIN_TOKEN, DATABRICKS_PAT);
 *   persistDir: local KV/DO/D1/R2/Queue state (default: a fresh temp dir, removed by stop())
 * @returns {Promise<Gateway>}
 */
export async function startGateway({ vars = {}, persistDir } = {}) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const tempDir = persistDir ? undefined : await mkdtemp(join(tmpdir(), "bricklane-wrangler-"));
  if (tempDir) liveDirs.add(tempDir);
  const persistTo = persistDir ?? /** @type {string} */ (tempDir);
  try {
    await applyLocalMigrations(persistTo);
  } catch (err) {
    if (tempDir) {
      await rm(tempDir, { recursive: true, force: true });
      liveDirs.delete(tempDir);
    }
    throw err;
  }
  const args = [
    WRANGLER,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = /** @type {number} */ (child.pid);
  liveGroups.add(pid);

  let output = "";
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
    liveGroups.delete(pid);
  });

  const url = `http://127.0.0.1:${port}`;
  /** @type {Promise<void> | undefined} */
  let stopping;
  const stop = () => (stopping ??= stopGateway());
  liveStops.add(stop);
  const stopGateway = async () => {
    if (running) {
      // wrangler shuts its workerd children down (and reaps them) on SIGTERM; the group kill below
      // catches anything left over.
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killed = await Promise.race([exited.then(() => true), delay(5_000).then(() => false)]);
      if (!killed) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
        await exited;
      }
    }
    // workerd children may outlive wrangler briefly; make sure the whole group is gone.
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // nothing left
    }
    liveGroups.delete(pid);
    if (tempDir) {
      await rm(tempDir, { recursive: true, force: true });
      liveDirs.delete(tempDir);
    }
    liveStops.delete(stop);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (!running) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready. Output:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `wrangler dev did not answer ${url}/health within ${STARTUP_TIMEOUT_MS} ms. Output:\n${output}`,
      );
    }
    await delay(250);
  }
  return { url, output: () => output, stop };
}

/**
 * Starts the emulator and the gateway with vars { ADMIN_TOKEN, DATABRICKS_PAT }.
 * @param {{ pat?: string, adminToken?: string, vars?: Record<string, string>, runtime?: "wrangler" | "miniflare" }} [options]
 *   vars: more `--var`s for the gateway; runtime: `wrangler dev` (default, what `npm run dev` runs) or
 *   the bundled Worker on Miniflare without wrangler's proxy (what the bench measures)
 * @returns {Promise<Stack>}
 */
export async function startStack({
  pat = "dapi-local-emulator-pat",
  adminToken = "local-admin-token",
  vars = {},
  runtime = "wrangler",
} = {}) {
  const started = await startEmulator({ pat });
  const closeEmulator = () => {
    liveStops.delete(closeEmulator);
    return started.close();
  };
  liveStops.add(closeEmulator);
  const emulator = { ...started, close: closeEmulator };
  /** @type {Gateway} */
  let gateway;
  try {
    const gatewayVars = { ...vars, ADMIN_TOKEN: adminToken, DATABRICKS_PAT: pat };
    gateway =
      runtime === "miniflare"
        ? await startGatewayMiniflare({ vars: gatewayVars })
        : await startGateway({ vars: gatewayVars });
  } catch (err) {
    await emulator.close();
    throw err;
  }
  return {
    emulator,
    gateway,
    adminToken,
    async admin(method, path, body) {
      const res = await fetch(`${gateway.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      /** @type {unknown} */
      let json = null;
      try {
        json = text === "" ? null : JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json };
    },
    async stop() {
      await Promise.allSettled([gateway.stop(), emulator.close()]);
    },
  };
}
