import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startStack } from "../../tools/lib/stack.mjs";

/**
 * The real Claude Code (the pinned @anthropic-ai/claude-code, a native binary) run headless through the
 * gateway: `claude -p "run-bash: <command>" --allowedTools Bash`. The emulator answers the trigger phrase
 * with a call to the Bash tool, Claude Code runs it and sends the result, and the emulator's answer quotes
 * it. Against an anthropic provider (passthrough) and an openai provider (translation), with a route name
 * as the model: Claude Code does not recognise it, so it sends its newest request shape (a system message
 * inside `messages`, adaptive thinking, `output_config.effort`, `context_management`, seven betas).
 *
 * Nothing leaves the machine: telemetry, error reporting, auto-update and other non-essential traffic are
 * off, HOME and CLAUDE_CONFIG_DIR are fresh temp dirs (no user config, no login), and every proxy
 * variable points at a trap that records any connection attempt, which must stay empty.
 */

const CLAUDE = join(REPO_ROOT, "node_modules", ".bin", "claude");
const PAT = "dapi-e2e-claude-pat";
/** A run takes a few seconds; the bound is for a loaded machine, and the kill in afterEach ends a stray. */
const RUN_TIMEOUT_MS = 60_000;

type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
let trap: Server;
let trapUrl: string;
const trapped: string[] = [];
let child: ChildProcess | null = null;
const tempDirs: string[] = [];

const CASES = [
  {
    name: "anthropic provider (passthrough)",
    format: "anthropic",
    path: "/anthropic",
    upstream: "/v1/messages",
  },
  {
    name: "openai provider (translated)",
    format: "openai",
    path: "/mlflow",
    upstream: "/v1/chat/completions",
  },
] as const;

beforeAll(async () => {
  stack = await startStack({ pat: PAT });
  for (const c of CASES) {
    const put = await stack.admin("PUT", `/admin/providers/${c.format}-p`, {
      format: c.format,
      baseUrl: `${stack.emulator.url}${c.path}`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    });
    expect(put.status).toBe(200);
    const route = await stack.admin("PUT", `/admin/routes/cc-${c.format}`, {
      destinations: [{ provider: `${c.format}-p`, model: "databricks-claude-sonnet-4-5" }],
    });
    expect(route.status).toBe(200);
  }
  key = ((await stack.admin("POST", "/admin/keys", { name: "claude-code" })).json as { key: string }).key;

  trap = createServer((req, res) => {
    trapped.push(`${req.method ?? "?"} ${req.url ?? ""}`);
    res.writeHead(502).end();
  });
  trap.on("connect", (req, socket) => {
    trapped.push(`CONNECT ${req.url ?? ""}`);
    socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  const address = trap.address();
  trapUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterEach(() => {
  // A run that outlived its test (timeout) is killed with everything it started.
  if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  child = null;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (trap ? trap.close(() => resolve()) : resolve()));
  await stack?.stop();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Runs `claude -p <prompt>` in `cwd` and resolves when the process exits (no polling). */
async function runClaude(model: string, prompt: string, cwd: string) {
  const home = await tempDir("bricklane-claude-home-");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, ".claude"),
    ANTHROPIC_BASE_URL: stack.gateway.url,
    ANTHROPIC_AUTH_TOKEN: key,
    ANTHROPIC_MODEL: model,
    // Background calls (titles, summaries) use the small/fast model: point it at the gateway's model too.
    ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
    ANTHROPIC_SMALL_FAST_MODEL: model,
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    HTTPS_PROXY: trapUrl,
    HTTP_PROXY: trapUrl,
    https_proxy: trapUrl,
    http_proxy: trapUrl,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
  // `env -i`: Claude Code sees these variables and nothing of this machine's environment (no stray
  // ANTHROPIC_API_KEY, no user settings).
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  const proc = spawn("env", ["-i", ...assignments, CLAUDE, "-p", prompt, "--allowedTools", "Bash"], {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  proc.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (exitCode) => resolve(exitCode));
  });
  return { code, stdout, stderr };
}

describe.each(CASES)("Claude Code through the gateway, $name", (c) => {
  it(
    "runs the Bash tool the model asked for and answers with its result",
    async () => {
      stack.emulator.clearRequests();
      const cwd = await tempDir("bricklane-claude-cwd-");
      const marker = `cc-${c.format}-${Date.now().toString(36)}`;
      const run = await runClaude(`cc-${c.format}`, `run-bash: echo ${marker} > out.txt`, cwd);
      const output = `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
      expect(run.code, output).toBe(0);

      expect(await readFile(join(cwd, "out.txt"), "utf8")).toBe(`${marker}\n`);
      expect(run.stdout).toContain("Hello from the emulator. The tool returned:");
      expect(run.stdout).toContain("(Bash completed with no output)");
      expect(trapped).toEqual([]);

      const calls = stack.emulator.requests.filter((r) => r.path === `${c.path}${c.upstream}`);
      expect(calls.length, output).toBeGreaterThanOrEqual(2);
      for (const r of calls) {
        expect(r.headers.authorization).toBe(`Bearer ${PAT}`);
        expect(JSON.stringify(r)).not.toContain(key);
      }
      const first = calls[0]?.body as { messages: { role: string }[]; model: string };
      expect(first.model).toBe("databricks-claude-sonnet-4-5");
      // The request shape that used to be refused: a system message after the user's first turn.
      const roles = first.messages.map((m) => m.role);
      expect(roles.indexOf("system", roles.indexOf("user"))).toBeGreaterThan(0);
      if (c.format === "anthropic") {
        expect(calls[0]?.headers["anthropic-beta"]).toContain("claude-code-20250219");
        expect(first).toHaveProperty("context_management");
      } else {
        expect(first).toHaveProperty("reasoning_effort");
        expect(JSON.stringify(first)).not.toContain("cache_control");
      }
    },
    RUN_TIMEOUT_MS,
  );
});
