// @ts-check
/**
 * Starts the Databricks emulator and the gateway (`wrangler dev`) together on loopback, for the e2e
 * tests, the demo and the bench.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
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
 * @property {(test: (line: string) => boolean) => Promise<string>} nextLine the first line printed from
 *   now on for which test is true: how a test waits on work the Worker does after its response (the
 *   call log's consumer prints one line per stored batch)
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

/**
 * Splits what a process prints into lines and hands each to the waiters registered with next().
 */
function lineWatcher() {
  /** @type {Set<{ test: (line: string) => boolean, resolve: (line: string) => void }>} */
  const waiters = new Set();
  return {
    /** A feed per stream, so stdout and stderr do not split each other's lines. */
    feed() {
      let carry = "";
      return (/** @type {string} */ text) => {
        const lines = (carry + text).split("\n");
        carry = lines.pop() ?? "";
        for (const line of lines) {
          for (const waiter of waiters) {
            if (!waiter.test(line)) continue;
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      };
    },
    /** @param {(line: string) => boolean} test @returns {Promise<string>} */
    next(test) {
      return new Promise((resolve) => waiters.add({ test, resolve }));
    },
  };
}

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
 * Registers something started elsewhere (the bench's emulator and peer gateway), so stopAll() stops it; a
 * process group given here (spawned `detached`) is also killed on an exit without stopAll().
 * @param {{ processGroup?: number, stop: () => Promise<void> }} started
 * @returns {() => Promise<void>} its stop, which also unregisters it (runs once)
 */
export function track({ processGroup, stop }) {
  if (processGroup) liveGroups.add(processGroup);
  /** @type {Promise<void> | undefined} */
  let stopping;
  const tracked = () =>
    (stopping ??= stop().finally(() => {
      if (processGroup) liveGroups.delete(processGroup);
      liveStops.delete(tracked);
    }));
  liveStops.add(tracked);
  return tracked;
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
 * @typedef {object} Bundle
 * @property {string} outDir where wrangler wrote the bundle
 * @property {string} scriptPath the bundled module
 * @property {string} configPath the wrangler config it was built from
 * @property {() => Promise<void>} remove deletes outDir
 */

/**
 * Bundles a Worker exactly as `wrangler deploy` would (`--dry-run --outdir`), with the config's build
 * settings (minify, aliases, compatibility flags).
 * @param {{ configPath?: string, entry?: string, metafile?: boolean }} [options]
 *   configPath: a wrangler config (default: the repository's wrangler.toml); entry: a script that replaces
 *   the config's `main` (the bench's instrumented entry); metafile: also write esbuild's metafile to
 *   outDir/bundle-meta.json
 * @returns {Promise<Bundle>}
 */
export async function bundleWorker({ configPath = join(REPO_ROOT, "wrangler.toml"), entry, metafile } = {}) {
  const outDir = await mkdtemp(join(tmpdir(), "bricklane-bundle-"));
  liveDirs.add(outDir);
  const remove = async () => {
    await rm(outDir, { recursive: true, force: true });
    liveDirs.delete(outDir);
  };
  const args = [WRANGLER, "deploy", "--dry-run", "--config", configPath, "--outdir", outDir];
  if (metafile) args.push("--metafile", join(outDir, "bundle-meta.json"));
  if (entry) args.push(entry);
  const build = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buildOutput = "";
  build.stdout.on("data", (c) => (buildOutput += c));
  build.stderr.on("data", (c) => (buildOutput += c));
  const code = await new Promise((resolve) => build.once("exit", resolve));
  if (code !== 0) {
    await remove();
    throw new Error(`wrangler deploy --dry-run failed:\n${buildOutput}`);
  }
  // Named after the entry (index.js for src/index.ts): the one .js file wrangler wrote.
  const script = (await readdir(outDir)).find((f) => f.endsWith(".js"));
  if (!script) {
    await remove();
    throw new Error(`wrangler deploy --dry-run wrote no .js file:\n${buildOutput}`);
  }
  return { outDir, scriptPath: join(outDir, script), configPath, remove };
}

/**
 * Serves a bundle on Miniflare directly, without `wrangler dev`'s proxy in front: the closest this
 * machine gets to how workerd serves it at the edge. Bindings come from the bundle's wrangler config;
 * state is in memory. stop() disposes Miniflare and leaves the bundle in place.
 * @param {Bundle} bundle
 * @param {{ vars?: Record<string, string>, assets?: boolean, inspectorPort?: number }} [options]
 *   inspectorPort: workerd's inspector (the bench's profiler); assets: false leaves the config's static assets (the console) out. At the edge, Cloudflare routes a
 *   request to a static file before the Worker runs and at no cost to it; Miniflare instead puts a
 *   JavaScript router Worker in front of every request, which the bench would count as the gateway's.
 * @returns {Promise<Gateway>}
 */
export async function serveBundle(bundle, { vars = {}, assets = true, inspectorPort } = {}) {
  const { Miniflare } = await import("miniflare");
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(bundle.configPath);
  if (!assets) delete workerOptions.assets;
  let output = "";
  const lines = lineWatcher();
  const mf = new Miniflare({
    ...workerOptions,
    // The Worker's logs (one line per call) are kept, not printed: the bench's output is its table.
    /** @param {import("node:stream").Readable} stdout @param {import("node:stream").Readable} stderr */
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        const feed = lines.feed();
        stream.on("data", (/** @type {Buffer} */ chunk) => {
          const text = chunk.toString("utf8");
          output = (output + text).slice(-OUTPUT_LIMIT);
          feed(text);
        });
      }
    },
    modules: true,
    scriptPath: bundle.scriptPath,
    modulesRoot: bundle.outDir,
    bindings: { ...workerOptions.bindings, ...vars },
    host: "127.0.0.1",
    port: await freePort(),
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
  });
  const stop = async () => {
    liveStops.delete(stop);
    await mf.dispose();
  };
  liveStops.add(stop);
  let url;
  try {
    url = (await mf.ready).toString().replace(/\/$/, "");
    // The gateway's call log needs its D1 table; other Workers served here (the bench's floor) have none.
    // (wrangler gives `{}` for a config without D1, so the binding itself is looked for.)
    const d1 = /** @type {Record<string, unknown> | undefined} */ (workerOptions.d1Databases);
    if (d1 && CALLS_DB in d1) await migrateInMemory(mf);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, output: () => output, nextLine: lines.next, stop };
}

/**
 * A Worker bundled by wrangler (as `wrangler deploy` would) and run by Miniflare directly (see
 * serveBundle). Used by the bench.
 * @param {{ vars?: Record<string, string>, configPath?: string, entry?: string, assets?: boolean }} [options]
 *   assets: see serveBundle
 * @returns {Promise<Gateway>}
 */
export async function startGatewayMiniflare({ vars = {}, configPath, entry, assets = true } = {}) {
  const bundle = await bundleWorker({ configPath, entry });
  try {
    const served = await serveBundle(bundle, { vars, assets });
    return {
      ...served,
      stop: async () => {
        await served.stop();
        await bundle.remove();
      },
    };
  } catch (err) {
    await bundle.remove();
    throw err;
  }
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
    "log",
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
  const lines = lineWatcher();
  /** @param {(text: string) => void} feed */
  const keep = (feed) => (/** @type {Buffer} */ chunk) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-OUTPUT_LIMIT);
    feed(text);
  };
  child.stdout.on("data", keep(lines.feed()));
  child.stderr.on("data", keep(lines.feed()));
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
  return { url, output: () => output, nextLine: lines.next, stop };
}

/**
 * Calls to a gateway's admin API with the admin bearer token; the answer's body is parsed as JSON when
 * it is JSON.
 * @param {string} baseUrl
 * @param {string} adminToken
 * @returns {Stack["admin"]}
 */
export function adminClient(baseUrl, adminToken) {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
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
  };
}

/**
 * Starts the emulator and the gateway with vars { ADMIN_TOKEN, DATABRICKS_PAT }.
 * @param {{ pat?: string, adminToken?: string, vars?: Record<string, string>, runtime?: "wrangler" | "miniflare" }} [options]
 *   vars: more `--var`s for the gateway; runtime: `wrangler dev` (default, what `npm run dev` runs) or
 *   the bundled Worker on Miniflare without wrangler's proxy (as the bench serves it)
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
    admin: adminClient(gateway.url, adminToken),
    async stop() {
      await Promise.allSettled([gateway.stop(), emulator.close()]);
    },
  };
}
