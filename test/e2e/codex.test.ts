import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codexConfig } from "../../tools/lib/codex.mjs";
import { REPO_ROOT, startStack } from "../../tools/lib/stack.mjs";

/**
 * The real Codex CLI (0.171.0, pinned in devDependencies) run headless through the gateway (`wrangler
 * dev` + the emulator), with its default tools on (the sub-agent namespace and web_search are sent) and
 * its default transport for a provider that supports WebSockets. The prompt's `run-bash: <command>` makes
 * the emulator call Codex's `exec_command`; Codex runs it, sends the output back, and the emulator answers
 * text quoting it. No network: the provider is loopback, and analytics, feedback, OTel export, update
 * checks and the plugin catalogue sync are off in a temporary CODEX_HOME.
 */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let key: string;
const PAT = "dapi-e2e-codex-pat";
const CODEX = join(REPO_ROOT, "node_modules", ".bin", "codex");
/** Codex is killed if it has not exited by then, so a failure cannot hang the run. */
const CODEX_LIFETIME_MS = 40_000;

const PROVIDERS = [
  { name: "dbx-anthropic", format: "anthropic", path: "/anthropic", upstream: "/anthropic/v1/messages" },
  { name: "dbx-mlflow", format: "openai", path: "/mlflow", upstream: "/mlflow/v1/chat/completions" },
] as const;

beforeAll(async () => {
  stack = await startStack({ pat: PAT });
  for (const p of PROVIDERS) {
    const put = await stack.admin("PUT", `/admin/providers/${p.name}`, {
      format: p.format,
      baseUrl: `${stack.emulator.url}${p.path}`,
      auth: { type: "bearer", secret: "DATABRICKS_PAT" },
    });
    expect(put.status).toBe(200);
  }
  key = ((await stack.admin("POST", "/admin/keys", { name: "e2e-codex" })).json as { key: string }).key;
});

afterAll(async () => {
  await stack?.stop();
});

type Run = { code: number | null; signal: string | null; stdout: string; stderr: string; dir: string };

/** `codex exec` with a fresh CODEX_HOME, HOME and working directory; resolves when the process exits. */
async function codexExec(model: string, prompt: string, websockets = true): Promise<Run> {
  const home = await mkdtemp(join(tmpdir(), "bricklane-codex-home-"));
  const dir = await mkdtemp(join(tmpdir(), "bricklane-codex-work-"));
  await writeFile(
    join(home, "config.toml"),
    codexConfig({ gatewayUrl: stack.gateway.url, model, websockets }),
  );
  const child = spawn(
    CODEX,
    [
      "exec",
      "--strict-config",
      "--ephemeral",
      "--skip-git-repo-check",
      "--dangerously-bypass-approvals-and-sandbox",
      "--json",
      prompt,
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        // Nothing of the machine's own Codex or OpenAI setup may take part.
        OPENAI_API_KEY: undefined,
        OPENAI_BASE_URL: undefined,
        CODEX_API_KEY: undefined,
        HOME: home,
        CODEX_HOME: home,
        BRICKLANE_KEY: key,
        // Codex logs the upgrade it made (and any fall back to HTTPS) at this level.
        RUST_LOG: "codex_api::endpoint::responses_websocket=info",
      },
      stdio: ["ignore", "pipe", "pipe"],
      signal: AbortSignal.timeout(CODEX_LIFETIME_MS),
      killSignal: "SIGKILL",
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.on("error", () => {
    // The lifetime signal killed it; the exit below reports how.
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once("exit", (c, s) => resolve([c, s])),
  );
  await rm(home, { recursive: true, force: true });
  return { code, signal, stdout, stderr, dir };
}

/** The JSONL events `codex exec --json` printed. */
function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Runs the shell-tool loop and checks its side effect, the final answer and what went upstream. */
async function shellLoop(provider: (typeof PROVIDERS)[number], websockets: boolean): Promise<Run> {
  stack.emulator.clearRequests();
  const command = "echo codex-was-here > proof.txt";
  const run = await codexExec(
    `${provider.name}/databricks-claude-sonnet-4`,
    `run-bash: ${command}`,
    websockets,
  );
  try {
    expect(run.signal, run.stderr.slice(-3000)).toBeNull();
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    // The command's side effect, in Codex's working directory.
    expect(await readFile(join(run.dir, "proof.txt"), "utf8")).toBe("codex-was-here\n");

    const items = events(run.stdout)
      .filter((e) => e.type === "item.completed")
      .map((e) => e.item as Record<string, unknown>);
    expect(items.find((i) => i.type === "command_execution")).toMatchObject({ exit_code: 0 });
    const answer = items.find((i) => i.type === "agent_message");
    expect(String(answer?.text)).toMatch(
      /^Hello from the emulator\. The tool returned: .*Process exited with code 0/s,
    );

    // Upstream: the model was asked twice (the call, then the answer to its output), with Codex's
    // sub-agent namespace flattened into functions and its web_search tool left out.
    const calls = stack.emulator.requests.filter((r) => r.path === provider.upstream);
    expect(calls).toHaveLength(2);
    const sent = JSON.stringify(calls[0]?.body);
    expect(sent).toContain("multi_agent_v1__spawn_agent");
    expect(sent).not.toContain("web_search");
    expect(calls.every((c) => c.headers.authorization === `Bearer ${PAT}`)).toBe(true);
    expect(JSON.stringify(calls.map((c) => c.headers))).not.toContain(key);
    return run;
  } finally {
    await rm(run.dir, { recursive: true, force: true });
  }
}

describe.each(PROVIDERS)("codex exec through the gateway to the $format provider", (provider) => {
  it(
    "runs a shell-tool loop over the gateway's WebSocket, default tools on",
    { timeout: 60_000 },
    async () => {
      const run = await shellLoop(provider, true);
      // The gateway served the WebSocket: Codex's upgrade got its 101 and Codex never fell back to HTTPS.
      expect(run.stderr).toContain("successfully connected to Responses WebSocket status=101");
      expect(run.stderr).not.toMatch(/falling back/i);
    },
  );
});

describe("codex exec over HTTPS", () => {
  it(
    "with supports_websockets = false, Codex goes straight to POST /v1/responses",
    { timeout: 60_000 },
    async () => {
      const run = await shellLoop(PROVIDERS[0], false);
      expect(run.stderr).not.toContain("connecting to Responses WebSocket");
    },
  );
});
