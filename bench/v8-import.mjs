// @ts-check
/**
 * Child process of bench/cold-start.mjs: `node bench/v8-import.mjs <bundle.js>` loads the bundle once in a
 * fresh V8 (read, parse, compile, evaluate its top level, as a new isolate does) and prints the
 * milliseconds. The bundle's one runtime import, `cloudflare:workers`, is pointed at a stand-in with the
 * classes it extends (in a copy, written before the clock starts), so Node can load it as workerd would.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const STUB =
  "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }\n" +
  "export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }\n";

const bundle = process.argv[2];
if (!bundle) throw new Error("usage: node bench/v8-import.mjs <bundle.js>");
const dir = await mkdtemp(join(tmpdir(), "bricklane-v8-import-"));
try {
  const code = (await readFile(bundle, "utf8")).replaceAll(
    '"cloudflare:workers"',
    '"./cloudflare-workers.mjs"',
  );
  await writeFile(join(dir, "cloudflare-workers.mjs"), STUB);
  await writeFile(join(dir, "bundle.mjs"), code);
  const started = performance.now();
  await import(pathToFileURL(join(dir, "bundle.mjs")).href);
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started })}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
