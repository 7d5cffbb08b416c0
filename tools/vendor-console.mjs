// @ts-check
/**
 * Copies the console's browser libraries from node_modules (versions pinned in package.json) into
 * console/ui/vendor/, where Workers Static Assets serves them. The copies are committed so the console
 * needs no build step; run this after changing one of the versions (`npm run vendor`), and the unit test
 * test/unit/console-vendor.test.ts fails while a copy differs from the installed package.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** vendor file name → where it comes from in node_modules */
export const VENDORED = {
  "preact.mjs": "preact/dist/preact.mjs",
  "hooks.mjs": "preact/hooks/dist/hooks.mjs",
  "htm.mjs": "htm/dist/htm.mjs",
  "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
  "LICENSE.preact": "preact/LICENSE",
  "LICENSE.htm": "htm/LICENSE",
  "LICENSE.chart.js": "chart.js/LICENSE.md",
};

export const VENDOR_DIR = join(ROOT, "console", "ui", "vendor");
export const sourceOf = (/** @type {string} */ from) => join(ROOT, "node_modules", from);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, from] of Object.entries(VENDORED)) {
    copyFileSync(sourceOf(from), join(VENDOR_DIR, name));
    console.log(`${from} -> console/ui/vendor/${name}`);
  }
}
