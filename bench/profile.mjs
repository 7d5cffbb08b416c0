// @ts-check
/**
 * `npm run bench:profile [-- json|sse]`: where the gateway's CPU goes under load. The bundled Worker is
 * served as the bench serves it (Miniflare, no asset router) with workerd's inspector open; while
 * autocannon sends the scenario's requests, V8's sampling profiler records the Worker's isolate. Printed:
 * self time by source file (through the bundle's source map, so `src/...` paths) and the heaviest
 * functions, as shares and µs per request. Load generator, emulator and workerd share the machine, and
 * the sampler attributes inlined code to its caller: read the shares, not the absolute times.
 * `PROFILE_DEPTH` (3) sets how many path segments of node_modules files are kept; `PROFILE_OUT=<file>`
 * also writes the raw profile (a .cpuprofile that Chrome DevTools opens).
 * Runs with `--experimental-websocket` (Node 20's WebSocket client, for the inspector protocol).
 */
import { readFile, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { startEmulator } from "../tools/emulator/emulator.mjs";
import { adminClient, bundleWorker, freePort, serveBundle } from "../tools/lib/stack.mjs";
import { load, warmUp } from "./load.mjs";
import { SCENARIOS, requestFor } from "./scenarios.mjs";
import { SETTINGS } from "./settings.mjs";

const ADMIN_TOKEN = "bench-admin-token";
const PAT = "dapi-bench-pat";

/**
 * A Chrome DevTools Protocol session over the inspector's WebSocket.
 * @param {string} url
 */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  /** @type {Map<number, (msg: { result?: any, error?: unknown }) => void>} */
  const waiting = new Map();
  ws.addEventListener("message", (event) => {
    const msg = JSON.parse(String(event.data));
    if (typeof msg.id === "number") waiting.get(msg.id)?.(msg);
  });
  return {
    /** @param {string} method @param {object} [params] @returns {Promise<any>} */
    send(method, params = {}) {
      const mine = ++id;
      return new Promise((resolve, reject) => {
        waiting.set(mine, (msg) =>
          msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result),
        );
        ws.send(JSON.stringify({ id: mine, method, params }));
      });
    },
    close: () => ws.close(),
  };
}

async function main() {
  const scenario = SCENARIOS.find((s) => s.name === (process.argv[2] ?? "json"));
  if (!scenario) throw new Error(`unknown scenario ${process.argv[2]} (json or sse)`);
  const emulator = await startEmulator({ pat: PAT });
  const bundle = await bundleWorker();
  const inspectorPort = await freePort();
  const gateway = await serveBundle(bundle, {
    vars: { ADMIN_TOKEN, DATABRICKS_PAT: PAT },
    assets: false,
    inspectorPort,
  });
  try {
    const admin = adminClient(gateway.url, ADMIN_TOKEN);
    await admin("PUT", "/admin/providers/bench", {
      format: "openai",
      baseUrl: `${emulator.url}/mlflow`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    });
    const created = await admin("POST", "/admin/keys", { name: "profile" });
    const request = requestFor(scenario, {
      url: `${gateway.url}/v1/chat/completions`,
      headers: { authorization: `Bearer ${/** @type {{ key: string }} */ (created.json).key}` },
      model: "bench/databricks-claude-sonnet-4-5",
    });
    await warmUp(request, 200);

    const targets = /** @type {{ id: string, webSocketDebuggerUrl: string }[]} */ (
      await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()
    );
    // The gateway is the user worker; the others are Miniflare's own (KV, D1, Queues, R2).
    const target = targets.find((t) => t.id.startsWith("core:user:"));
    if (!target) throw new Error("workerd's inspector lists no user worker");
    const cdp = await inspector(target.webSocketDebuggerUrl);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
    await cdp.send("Profiler.start");
    const result = await load(request, { ...SETTINGS, seconds: Math.min(SETTINGS.seconds, 8) });
    const { profile } = await cdp.send("Profiler.stop");
    // The raw profile, for Chrome DevTools (Performance, "Load profile") or your own reading.
    if (process.env.PROFILE_OUT) await writeFile(process.env.PROFILE_OUT, JSON.stringify(profile));
    cdp.close();
    console.log(
      `${scenario.name}: ${result.rps.toFixed(0)} req/s under the profiler (${result.non2xx} non-2xx)`,
    );
    console.log(await report(profile, bundle.scriptPath, result.requests));
  } finally {
    await gateway.stop();
    await bundle.remove();
    await emulator.close();
  }
}

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number, columnNumber: number }} CallFrame
 * @param {{ nodes: { id: number, callFrame: CallFrame, children?: number[] }[], samples: number[], timeDeltas: number[] }} profile
 * @param {string} scriptPath
 * @param {number} requests
 */
async function report(profile, scriptPath, requests) {
  const map = new SourceMap(JSON.parse(await readFile(`${scriptPath}.map`, "utf8")));
  const bundleName = scriptPath.split("/").pop() ?? "";
  const depth = Number(process.env.PROFILE_DEPTH ?? 3);
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  profile.samples.forEach((node, i) =>
    selfUs.set(node, (selfUs.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  /** Where a frame's code is (a source file, or the runtime) and its function's name, with line. */
  /** @param {CallFrame} f */
  const place = (f) => {
    let where = f.url ? "(other script)" : `(${f.functionName || "runtime"})`;
    let name = f.functionName || "(anonymous)";
    if (f.url.endsWith(bundleName)) {
      // Both 0-based; an entry without a source is a position the map does not cover.
      const pos = /** @type {{ originalSource?: string, originalLine?: number, name?: string }} */ (
        map.findEntry(f.lineNumber, f.columnNumber)
      );
      where = (pos.originalSource ?? "(bundle)").replace(/^.*?(node_modules\/|src\/)/, "$1");
      if (where.startsWith("node_modules/")) where = where.split("/").slice(0, depth).join("/");
      name = `${pos.name ?? name} ${where}:${(pos.originalLine ?? -1) + 1}`;
    }
    return { where, name };
  };
  /** @param {CallFrame} f */
  const nameOf = (f) => place(f).name;
  /** @type {Map<string, number>} */
  const byFile = new Map();
  /** @type {Map<string, number>} */
  const byFunction = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const { where, name } = place(node.callFrame);
    byFile.set(where, (byFile.get(where) ?? 0) + us);
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  // Inclusive time: a function's self time plus everything it called, counted once per stack (a node
  // under another node of the same function is not counted again). Async functions resume from the
  // microtask queue, so each resumption is its own stack: their inclusive time is what ran synchronously.
  /** @type {Map<number, { id: number, callFrame: CallFrame, children?: number[] }>} */
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  /** @param {number} id @param {Set<string>} open @returns {number} */
  const walk = (id, open) => {
    const node = nodes.get(id);
    if (!node) return 0;
    const name = nameOf(node.callFrame);
    const fresh = !open.has(name);
    if (fresh) open.add(name);
    let us = selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) us += walk(child, open);
    if (fresh) {
      open.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
    return us;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  inclusive.delete(nameOf(root?.callFrame ?? { functionName: "", url: "", lineNumber: 0, columnNumber: 0 }));

  /** @param {Map<string, number>} m @param {number} n */
  const top = (m, n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) =>
          `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / requests).toFixed(1).padStart(7)} µs/req  ${k}`,
      )
      .join("\n");
  return (
    `\nSelf time by file (${(total / requests).toFixed(0)} µs of samples per request, idle included):\n${top(byFile, 25)}` +
    `\n\nHeaviest functions:\n${top(byFunction, 30)}` +
    `\n\nHeaviest functions with what they call (inclusive):\n${top(inclusive, 40)}`
  );
}

await main();
