import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VENDORED, VENDOR_DIR, sourceOf } from "../../tools/vendor-console.mjs";

/** The console's vendored libraries are exactly the pinned packages' files (`npm run vendor` refreshes them). */
describe("console/ui/vendor", () => {
  it.each(Object.entries(VENDORED))("%s is %s from node_modules", (name, from) => {
    expect(readFileSync(join(VENDOR_DIR, name)).equals(readFileSync(sourceOf(from)))).toBe(true);
  });
});
