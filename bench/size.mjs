#!/usr/bin/env node
// @ts-check
/**
 * `npm run size`: the gateway's bundle as `wrangler deploy` uploads it (raw and gzip), and what it is made
 * of, from esbuild's metafile. Exits 1 above the budget (BUNDLE_BUDGET_KIB, default 400), so a change that
 * pulls a library's unused half back in shows up.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { bundleWorker, stopAll } from "../tools/lib/stack.mjs";
import { formatTable } from "./report.mjs";
import { intEnv } from "./settings.mjs";

/**
 * @typedef {object} BundleSize
 * @property {number} rawBytes the bundled module (index.js)
 * @property {number} gzipBytes the same, gzipped
 * @property {{ part: string, bytes: number }[]} parts bytes in the output by source folder, largest first
 */

/** A source file's folder, with packages named as such: `zod/v4/locales`, `hono/dist`, `src/limits`. */
function partOf(/** @type {string} */ input) {
  const nm = input.lastIndexOf("node_modules/");
  const path = nm >= 0 ? input.slice(nm + "node_modules/".length) : input;
  const segments = path.split("/");
  const scoped = segments[0]?.startsWith("@") ? 1 : 0;
  // The package (or src) and up to two folders below it.
  return segments.slice(0, Math.min(segments.length - 1, 3 + scoped)).join("/") || path;
}

/** @returns {Promise<BundleSize>} */
export async function bundleSize() {
  const bundle = await bundleWorker({ metafile: true });
  try {
    const code = await readFile(bundle.scriptPath);
    const meta = JSON.parse(await readFile(join(bundle.outDir, "bundle-meta.json"), "utf8"));
    /** @type {[string, { inputs: Record<string, { bytesInOutput: number }> }] | undefined} */
    const output = Object.entries(meta.outputs).find(([name]) => name.endsWith(".js"));
    /** @type {Map<string, number>} */
    const parts = new Map();
    for (const [input, { bytesInOutput }] of Object.entries(output?.[1].inputs ?? {})) {
      const part = partOf(input);
      parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
    }
    return {
      rawBytes: (await stat(bundle.scriptPath)).size,
      gzipBytes: gzipSync(code).length,
      parts: [...parts].map(([part, bytes]) => ({ part, bytes })).sort((a, b) => b.bytes - a.bytes),
    };
  } finally {
    await bundle.remove();
  }
}

const kib = (/** @type {number} */ bytes) => (bytes / 1024).toFixed(1);

/** @param {BundleSize} size */
export const sizeLine = (size) =>
  `Bundle (wrangler deploy --dry-run): ${kib(size.rawBytes)} KiB, gzip ${kib(size.gzipBytes)} KiB.`;

async function main() {
  const budget = intEnv("BUNDLE_BUDGET_KIB", 400);
  const size = await bundleSize();
  console.log(sizeLine(size));
  const top = size.parts.slice(0, 15);
  console.log(
    `\n${formatTable(
      ["KiB", "from"],
      top.map((p) => [kib(p.bytes), p.part]),
    )}`,
  );
  if (size.parts.length > top.length)
    console.log(`(${size.parts.length - top.length} smaller parts left out)`);
  if (size.rawBytes > budget * 1024) {
    console.error(`\nOver the budget of ${budget} KiB (BUNDLE_BUDGET_KIB).`);
    return 1;
  }
  console.log(`\nWithin the budget of ${budget} KiB.`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    async (code) => {
      await stopAll();
      process.exit(code);
    },
    async (err) => {
      console.error(`size failed: ${err instanceof Error ? err.message : String(err)}`);
      await stopAll();
      process.exit(1);
    },
  );
}
