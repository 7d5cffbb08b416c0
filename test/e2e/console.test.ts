import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startStack } from "../../tools/lib/stack.mjs";

/**
 * The console in a real browser (Debian's chromium through playwright-core) against `wrangler dev` and
 * the emulator: sign in, create a provider, a team and a key, call through the gateway with that key,
 * see the call on Overview and Calls, disable the key. Every page is saved to .screenshots/.
 */
type Stack = Awaited<ReturnType<typeof startStack>>;
let stack: Stack;
let context: BrowserContext;
let page: Page;
let profileDir: string;
/** The key the console created, as it showed it once. */
let key = "";
const SHOTS = join(REPO_ROOT, ".screenshots");
const PAT = "dapi-console-pat";
const suffix = Date.now().toString(36);
const PROVIDER = `dbx-${suffix}`;
const TEAM = `ml-${suffix}`;
const KEY_NAME = `laptop-${suffix}`;
const CALL_ID = `console-test-call-${suffix}`;
const ROUTE = `claude-${suffix}`;
/** Resolves when the call log's consumer has stored the call made through the gateway. */
let logged: Promise<string> | undefined;

const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function shot(name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Goes to a console page and waits for its heading. */
async function open(hash: string, title: string) {
  await page.goto(`${stack.gateway.url}/ui/#/${hash}`);
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ pat: PAT });
  profileDir = mkdtempSync(join(tmpdir(), "bricklane-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 900 },
  });
  page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
}, 90_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await stack?.stop();
});

describe("console", () => {
  it("is served at /ui/ as static files, leaving every other path to the Worker", async () => {
    const bare = await fetch(`${stack.gateway.url}/ui`, { redirect: "manual" });
    expect(bare.status).toBeGreaterThanOrEqual(300);
    expect(bare.status).toBeLessThan(400);
    expect(bare.headers.get("location")).toMatch(/\/ui\/$/);
    const index = await fetch(`${stack.gateway.url}/ui/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<div id="app">');
    // A path that names no file reaches the Worker: its JSON 404, not an HTML fallback.
    const missing = await fetch(`${stack.gateway.url}/ui/no-such-page`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/json");
    expect((await fetch(`${stack.gateway.url}/health`)).status).toBe(200);
  });

  it("signs in with the admin token, kept for the tab only and never in the URL", async () => {
    await page.goto(`${stack.gateway.url}/ui/`);
    await page.getByLabel("Admin token").fill("wrong-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("Invalid or missing admin token").waitFor();
    await shot("00-sign-in-refused");

    await page.getByLabel("Admin token").fill(stack.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect(page.url()).not.toContain(stack.adminToken);
    expect(await page.evaluate("sessionStorage.getItem('bricklane.adminToken')")).toBe(stack.adminToken);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    await shot("01-overview-empty");
  });

  it("creates a provider, shows the API's validation messages, and tests it", async () => {
    await open("providers", "Providers");
    await page.getByTestId("new-provider-button").click();
    const form = page.getByTestId("provider-form");
    await form.locator("input[name=name]").fill(PROVIDER);
    // A typo the API refuses, with every problem listed.
    await form.locator("textarea[name=settings]").fill(
      JSON.stringify({
        format: "openai",
        baseUrl: `${stack.emulator.url}/mlflow/v1`,
        auth: { type: "bearer" },
      }),
    );
    await form.getByRole("button", { name: "Create provider" }).click();
    const refused = form.getByRole("alert");
    await refused.locator("li", { hasText: "auth.secret" }).waitFor();
    await refused.locator("li", { hasText: "must not end in /v1" }).waitFor();
    await shot("02-provider-validation");

    await form.locator("textarea[name=settings]").fill(
      JSON.stringify({
        format: "openai",
        baseUrl: `${stack.emulator.url}/mlflow`,
        auth: { type: "bearer", secret: "DATABRICKS_PAT" },
        models: ["databricks-claude-sonnet-4"],
        pricing: { "databricks-claude-sonnet-4": { inputPerMTok: 3, outputPerMTok: 15 } },
      }),
    );
    await form.getByRole("button", { name: "Create provider" }).click();
    await page.getByTestId("providers-table").getByText(PROVIDER).waitFor();

    await page.getByTestId(`test-${PROVIDER}`).click();
    await page.getByTestId("provider-test").getByRole("button", { name: "Run test" }).click();
    const result = page.getByTestId("provider-test-result");
    await result.getByText("upstream 200").waitFor();
    expect(await result.textContent()).toContain("Reply:");
    await shot("03-providers");
  });

  it("creates a team and a key; the key is shown once", async () => {
    await open("teams", "Teams");
    await page.getByTestId("new-team-button").click();
    const team = page.getByTestId("team-form");
    await team.locator("input[name=name]").fill(TEAM);
    await team.locator("input[name=description]").fill("Machine learning");
    await team.locator("input[name=budgetUsd]").fill("25");
    await team.getByRole("button", { name: "Create team" }).click();
    await page.getByTestId("teams-table").getByText(TEAM).waitFor();
    await shot("04-teams");

    await open("keys", "Keys");
    await page.getByTestId("new-key-button").click();
    const form = page.getByTestId("key-form");
    await form.locator("input[name=name]").fill(KEY_NAME);
    await form.locator("select[name=team]").selectOption(TEAM);
    await form.locator("input[name=providers]").fill(PROVIDER);
    await form.locator("input[name=rpm]").fill("60");
    await form.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByTestId("new-key-value");
    await secret.waitFor();
    key = (await secret.textContent()) ?? "";
    expect(key).toMatch(/^bl-[A-Za-z0-9_-]{43}$/);
    await shot("05-key-created");

    // The key itself is in no list: it was shown once.
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("keys-table").getByText(KEY_NAME).waitFor();
    expect(await page.content()).not.toContain(key);
  });

  it("sees a call made through the gateway on Overview and Usage, with a CSV download", async () => {
    const client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: key, maxRetries: 0 });
    // The gateway keeps a caller's x-request-id, so the wait on the call log can be set up before the call.
    logged = stack.gateway.nextLine((line) => line.includes("call log: stored") && line.includes(CALL_ID));
    const answer = await client.chat.completions.create(
      {
        model: `${PROVIDER}/databricks-claude-sonnet-4`,
        messages: [{ role: "user", content: "hello from the console test" }],
      },
      { headers: { "x-request-id": CALL_ID } },
    );
    expect(answer.choices[0]?.message.content).toBeTruthy();

    // The last 24 hours come from the call log, which its Queue consumer stores in batches after the
    // response: wait for this call's batch. Usage goes to the limiters within USAGE_FLUSH_MS (1 s), in
    // another process: nothing here can wait on that itself, so the page is reloaded until it shows.
    await logged;
    await open("overview", "Overview");
    const week = page.getByTestId("last-7d-calls");
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByTestId("last-7d").waitFor();
          return (await week.textContent())?.replace(/\D/g, "");
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe("1");
    // Rendered once the call log has answered.
    const day = page.getByTestId("last-24h-calls");
    await day.waitFor();
    expect((await day.textContent())?.replace(/\D/g, "")).toBe("1");
    await page.getByTestId("top-keys").getByText(KEY_NAME).waitFor();
    await page.getByTestId("top-teams").getByText(TEAM).waitFor();
    await page.getByTestId("top-models").getByText(`${PROVIDER}/databricks-claude-sonnet-4`).waitFor();
    await shot("06-overview");

    await open("usage", "Usage");
    await page.getByTestId("usage-table").getByText("databricks-claude-sonnet-4").waitFor();
    const download = page.waitForEvent("download");
    await page.getByTestId("usage-csv").click();
    const csvPath = await (await download).path();
    const { readFileSync } = await import("node:fs");
    const csv = readFileSync(csvPath, "utf8");
    expect(csv.split("\n")[0]).toBe(
      "day,provider,model,requests,inputTokens,cacheReadTokens,cacheWriteTokens,outputTokens,reasoningTokens,costUsd,errors",
    );
    expect(csv).toContain(`${PROVIDER},databricks-claude-sonnet-4,1,`);
    await shot("07-usage");
  });

  it("sees the call on Calls", async () => {
    await open("calls", "Calls");
    const row = page.getByTestId("calls-table").locator("tr", { hasText: KEY_NAME });
    await row.first().waitFor();
    const cells = await row.first().locator("td").allTextContents();
    expect(cells[1]).toBe("200");
    // Latency and first byte are both measured for a call an upstream answered.
    expect(cells.slice(8, 10)).toEqual([
      expect.stringMatching(/^\d+ ms$/),
      expect.stringMatching(/^\d+ ms$/),
    ]);
    await shot("08-calls");
  });

  it("creates a route, refusing one that names a provider that does not exist, and calls through it", async () => {
    await open("routes", "Routes");
    await page.getByTestId("new-route-button").click();
    const form = page.getByTestId("route-form");
    await form.locator("input[name=name]").fill(ROUTE);
    await form
      .locator("textarea[name=settings]")
      .fill(JSON.stringify({ destinations: [{ provider: "ghost", model: "m" }] }));
    await form.getByRole("button", { name: "Create route" }).click();
    // One problem: the message alone, no list.
    await form.getByRole("alert").getByText("'ghost'", { exact: false }).waitFor();
    await form.locator("textarea[name=settings]").fill(
      JSON.stringify({
        destinations: [{ provider: PROVIDER, model: "databricks-claude-sonnet-4" }],
        fallbacks: [{ provider: PROVIDER, model: "databricks-claude-sonnet-4-5" }],
      }),
    );
    await form.getByRole("button", { name: "Create route" }).click();
    const row = page.getByTestId("routes-table").locator("tr", { hasText: ROUTE });
    await row.waitFor();
    expect(await row.textContent()).toContain(`${PROVIDER}/databricks-claude-sonnet-4-5`);
    await shot("09-routes");

    const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: ROUTE, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { model: string }).model).toContain("databricks-claude-sonnet-4");
  });

  it("disables the key, and the gateway refuses it at once", async () => {
    await open("keys", "Keys");
    await page.getByTestId(`toggle-${KEY_NAME}`).click();
    // Exact text: the row's buttons read "EditDisableDelete", which a substring match would take for it.
    const row = page.getByTestId("keys-table").locator("tr", { hasText: KEY_NAME });
    await row.getByText("disabled", { exact: true }).waitFor();
    await row.getByRole("button", { name: "Enable" }).waitFor();
    await shot("10-key-disabled");
    const res = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: `${PROVIDER}/m`, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(401);
  });

  it("refuses to delete a team a key still names, with the API's message", async () => {
    await open("teams", "Teams");
    await page
      .getByTestId("teams-table")
      .locator("tr", { hasText: TEAM })
      .getByRole("button", { name: "Delete" })
      .click();
    await page.getByRole("alert").getByText(`key '${KEY_NAME}'`, { exact: false }).waitFor();
    await shot("11-team-in-use");
  });
});
