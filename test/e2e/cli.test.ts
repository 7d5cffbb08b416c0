import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startStack } from "../../tools/lib/stack.mjs";

/** `npx bricklane` (bin/bricklane.mjs), run as a real process against `wrangler dev` + the emulator. */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let dir: string;
const CLI = join(REPO_ROOT, "bin", "bricklane.mjs");
/** The gateway keeps a caller's x-request-id, so the test knows its call's id before it is made. */
const CALL_ID = "cli-test-call-1";
/** Resolves when the call log's consumer has stored the call made through the gateway. */
let logged: Promise<string> | undefined;

function cli(args: string[], env: Record<string, string | undefined> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        // Undefined values are left out of the child's environment.
        env: {
          ...process.env,
          BRICKLANE_URL: stack.gateway.url,
          BRICKLANE_ADMIN_TOKEN: stack.adminToken,
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  stack = await startStack({ pat: "dapi-cli-pat" });
  dir = mkdtempSync(join(tmpdir(), "bricklane-cli-"));
});

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await stack?.stop();
});

describe("bricklane CLI", () => {
  it("says what is missing and exits non-zero without the environment or with a bad command", async () => {
    const noEnv = await cli(["export"], { BRICKLANE_URL: undefined, BRICKLANE_ADMIN_TOKEN: undefined });
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toContain("BRICKLANE_URL and BRICKLANE_ADMIN_TOKEN");
    const bad = await cli(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown command 'frobnicate'");
    const wrongToken = await cli(["export"], { BRICKLANE_ADMIN_TOKEN: "nope" });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("answered 401");
  });

  it("applies a file (dry run first), prints the new key once, and a second apply changes nothing", async () => {
    const file = join(dir, "gateway.json");
    const doc = {
      providers: {
        databricks: {
          format: "openai",
          baseUrl: `${stack.emulator.url}/mlflow`,
          auth: { type: "bearer", secret: "DATABRICKS_PAT" },
          pricing: { "databricks-claude-sonnet-4": { inputPerMTok: 3, outputPerMTok: 15 } },
        },
      },
      teams: { ml: { limits: { rpm: 100 } } },
      keys: { "ci-bot": { team: "ml", providers: ["databricks"] } },
    };
    writeFileSync(file, JSON.stringify(doc));

    const dry = await cli(["apply", file, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would create provider 'databricks'");
    expect(dry.stdout).toContain("would create key 'ci-bot'");
    expect((await stack.admin("GET", "/admin/providers/databricks")).status).toBe(404);

    const applied = await cli(["apply", file]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("did create team 'ml'");
    const key = /key: (bl-[A-Za-z0-9_-]{43})/.exec(applied.stdout)?.[1] ?? "";
    expect(key).not.toBe("");
    logged = stack.gateway.nextLine((line) => line.includes("call log: stored") && line.includes(CALL_ID));
    const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        "x-request-id": CALL_ID,
      },
      body: JSON.stringify({
        model: "databricks/databricks-claude-sonnet-4",
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe(CALL_ID);
    await res.text();

    const again = await cli(["apply", file]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe("No changes: the gateway already matches.");

    const exported = await cli(["export"]);
    expect(exported.code).toBe(0);
    const out = JSON.parse(exported.stdout) as typeof doc & { routes: object };
    expect(out.providers).toEqual(doc.providers);
    expect(out.keys).toEqual(doc.keys);
    expect(exported.stdout).not.toContain(key);
  });

  it("lists the gateway's problems with a file, and exits 1", async () => {
    const file = join(dir, "typo.json");
    writeFileSync(file, JSON.stringify({ keys: { typo: { team: "ml-tem", providers: ["ghost"] } } }));
    const r = await cli(["apply", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("answered 400");
    expect(r.stderr).toContain("keys.typo.team: no team named 'ml-tem'");
    expect(r.stderr).toContain("keys.typo.providers[0]: no provider named 'ghost'");
  });

  it("creates, lists, disables and deletes keys", async () => {
    const created = await cli(["keys", "create", "laptop", "--team", "ml", "--rpm", "30"]);
    expect(created.code).toBe(0);
    const key = /^(bl-[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();

    const listed = await cli(["keys", "list"]);
    expect(listed.stdout).toMatch(/laptop\s+active\s+ml/);
    expect(listed.stdout).not.toContain(key ?? "none");

    const disabled = await cli(["keys", "disable", "laptop"]);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain("is disabled");
    expect((await cli(["keys", "list"])).stdout).toMatch(/laptop\s+disabled/);

    const deleted = await cli(["keys", "delete", "laptop"]);
    expect(deleted.code).toBe(0);
    const missing = await cli(["keys", "delete", "laptop"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No key has the id or name 'laptop'");
  });

  it("prints usage totals and, where the gateway has a call log, recent calls", async () => {
    const log = await stack.admin("GET", "/admin/calls");
    // The call log is written by its Queue consumer after the response, in a batch (at most 5 s later):
    // wait for that batch. Usage is sent to the limiters within USAGE_FLUSH_MS (1 s), so by then it is in.
    if (log.status !== 404) await logged;
    const usage = await cli(["usage"]);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toContain("whole gateway");
    expect(usage.stdout).toMatch(/databricks\s+databricks-claude-sonnet-4\s+1\s/);
    const json = await cli(["usage", "--provider", "databricks", "--json"]);
    expect((JSON.parse(json.stdout) as { total: { requests: number } }).total.requests).toBe(1);

    const calls = await cli(["calls", "--limit", "5"]);
    if (log.status === 404) {
      // No call log on this gateway yet: the CLI says so plainly and fails.
      expect(calls.code).toBe(1);
      expect(calls.stderr).toContain("GET /admin/calls?limit=5 answered 404");
    } else {
      expect(calls.code).toBe(0);
      // The call's row, down to its duration and its first byte (both measured, so both numbers).
      expect(calls.stdout).toMatch(
        /\s200\s.*databricks\/databricks-claude-sonnet-4\s+\d+\s+\d+\s+\d+\.\d{4}\s+\d+\s+\d+\s*$/m,
      );
    }
  });
});
