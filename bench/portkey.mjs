// @ts-check
/**
 * Portkey's open-source gateway (npm @portkey-ai/gateway, the version pinned in package.json) on Node, as
 * the bench's peer. Its CLI (`build/start-server.js`) takes `--port=N` and `--headless` (no web UI) and no
 * host, so a preload (./loopback-listen.mjs) keeps it on 127.0.0.1. It prints "Ready for connections"
 * once listening; it has no shutdown handler of its own, so SIGTERM ends it at once.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, freePort, track } from "../tools/lib/stack.mjs";

const SERVER = join(REPO_ROOT, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
const PRELOAD = join(REPO_ROOT, "bench", "loopback-listen.mjs");
const OUTPUT_LIMIT = 16 * 1024;

/**
 * @param {{ upstream: string }} options upstream: the emulator's base URL
 * @returns {Promise<{ url: string, headers: Record<string, string>, stop: () => Promise<void> }>}
 *   headers: what a client sends so Portkey forwards to the emulator's OpenAI-format routes
 */
export async function startPortkey({ upstream }) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", PRELOAD, SERVER, "--headless", `--port=${port}`], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: "production" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = /** @type {number} */ (child.pid);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  let output = "";
  const stop = track({
    processGroup: pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  });
  /** @type {Promise<void>} */
  const ready = new Promise((resolve, reject) => {
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
      if (output.includes("Ready for connections")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) =>
      reject(new Error(`Portkey exited (code ${code}) before it was ready:\n${output}`)),
    );
  });
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    headers: {
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": `${upstream}/mlflow/v1`,
      // Portkey forwards only the headers it is told to; the emulator reads its faults from this one.
      "x-portkey-forward-headers": "x-emulator-fault",
    },
    stop,
  };
}
