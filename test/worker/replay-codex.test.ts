import { describe, expect, it } from "vitest";
import turn1 from "../fixtures/clients/codex-0.171.0-turn1-stock.json";
import turn2 from "../fixtures/clients/codex-0.171.0-turn2-tool-output.json";
import { checkResponsesStream } from "../unit/responses/helpers";
import { PAT, anthropicFormat, chat, emulatorRequests, setup, uniqueName, type Json } from "./helpers";

/**
 * What Codex CLI 0.171.0 sent on the wire (test/fixtures/clients), replayed through the gateway onto both
 * provider formats: each must answer 200 with a well-formed Responses stream, and the upstream must get
 * a request it can take (flattened namespace tools, no hosted tools, developer messages as system text).
 */

type Capture = { headers: Record<string, string>; body: Json };

/** The capture's headers (minus credentials, which it has none of) and body, pointed at `model`. */
function replay(capture: Capture, key: string, model: string, marker: string) {
  const headers = Object.fromEntries(
    Object.entries(capture.headers).filter(([name]) => !/^(authorization|x-api-key)$/i.test(name)),
  );
  // A marker in the first developer message finds this request among the emulator's.
  const body = structuredClone(capture.body) as Json & { input: Json[] };
  const first = body.input[0] as { content: { text: string }[] };
  const part = first.content[0];
  if (part) part.text = `${marker} ${part.text}`;
  return chat(key, { ...body, model }, headers, "/v1/responses");
}

async function upstreamOf(marker: string) {
  const seen = (await emulatorRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
  expect(seen).toHaveLength(1);
  return seen[0] as { path: string; headers: Record<string, string>; body: Json };
}

const FORMATS = [
  ["openai", () => ({}), "/mlflow/v1/chat/completions"],
  ["anthropic", anthropicFormat, "/anthropic/v1/messages"],
] as const;

describe.each(FORMATS)("Codex 0.171.0 captures replayed to an %s provider", (format, overrides, path) => {
  it("turn 1 (default tools: a namespace and web_search): 200, a tool call to exec_command, web_search named as dropped", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("codex1");
    const res = await replay(turn1 as Capture, key, `${provider}/m`, marker);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-bricklane-dropped")).toBe("web_search");
    const s = checkResponsesStream(await res.text());
    expect(s.violations).toEqual([]);
    expect(s.types[0]).toBe("response.created");
    expect(s.terminal?.type).toBe("response.completed");
    // The emulator answers the prompt's `run-bash:` with a call to Codex's shell tool.
    expect(s.items).toEqual([
      expect.objectContaining({ type: "function_call", name: "exec_command", status: "completed" }),
    ]);
    expect(s.items[0]).not.toHaveProperty("namespace");
    expect(JSON.parse(String(s.items[0]?.arguments))).toEqual({ cmd: "echo codex-was-here > proof.txt" });

    const sent = await upstreamOf(marker);
    expect(sent.path).toBe(path);
    expect(sent.headers.authorization).toBe(`Bearer ${PAT}`);
    const body = sent.body;
    // Fields that only tune the call stay behind.
    for (const field of ["include", "store", "prompt_cache_key", "client_metadata", "reasoning", "input"]) {
      expect(body).not.toHaveProperty(field);
    }
    const names =
      format === "openai"
        ? (body.tools as { function: { name: string } }[]).map((t) => t.function.name)
        : (body.tools as { name: string }[]).map((t) => t.name);
    expect(names).toEqual([
      "exec_command",
      "write_stdin",
      "request_user_input",
      "view_image",
      "multi_agent_v1__close_agent",
      "multi_agent_v1__resume_agent",
      "multi_agent_v1__send_input",
      "multi_agent_v1__spawn_agent",
      "multi_agent_v1__wait_agent",
      "get_goal",
      "create_goal",
      "update_goal",
    ]);
    const text = JSON.stringify(body);
    expect(text).not.toContain("web_search");
    // The namespace's description leads each member's.
    expect(text).toContain("Tools for spawning and managing sub-agents.\\n\\nClose an agent");
    if (format === "openai") {
      const messages = body.messages as { role: string; content: unknown }[];
      // Codex's two developer messages stay where they were, as system messages.
      expect(messages.map((m) => m.role)).toEqual(["system", "system", "user", "user"]);
      expect(String(messages[1]?.content)).toContain("<permissions instructions>");
      expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.parallel_tool_calls).toBe(true);
      expect(body.tool_choice).toBe("auto");
    } else {
      const system = body.system as { text: string }[];
      expect(system).toHaveLength(2);
      expect(system[1]?.text).toContain("<skills_instructions>");
      expect((body.messages as { role: string }[]).map((m) => m.role)).toEqual(["user"]);
      expect(body.tool_choice).toEqual({ type: "auto" });
    }
  });

  it("turn 2 (the tool's output, whole history resent): 200 and text quoting the output; nothing dropped", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("codex2");
    const res = await replay(turn2 as Capture, key, `${provider}/m`, marker);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-dropped")).toBeNull();
    const s = checkResponsesStream(await res.text());
    expect(s.violations).toEqual([]);
    expect(s.terminal?.type).toBe("response.completed");
    expect(Object.values(s.text).join("")).toMatch(
      /^Hello from the emulator\. The tool returned: Chunk ID: 38cb56\nWall time/,
    );
    const body = (await upstreamOf(marker)).body;
    if (format === "openai") {
      const messages = body.messages as { role: string; tool_calls?: unknown; tool_call_id?: string }[];
      expect(messages.map((m) => m.role)).toEqual(["system", "system", "user", "user", "assistant", "tool"]);
      expect(messages[4]?.tool_calls).toEqual([
        {
          id: "call_mock1795902048461",
          type: "function",
          function: { name: "exec_command", arguments: '{"cmd":"echo codex-was-here > proof.txt"}' },
        },
      ]);
      expect(messages[5]?.tool_call_id).toBe("call_mock1795902048461");
    } else {
      const messages = body.messages as { role: string; content: { type: string }[] }[];
      expect(messages.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
        ["user", ["text", "text"]],
        ["assistant", ["tool_use"]],
        ["user", ["tool_result"]],
      ]);
    }
  });

  it("a call to a namespaced tool comes back as the member with its namespace, as Codex dispatches it", async () => {
    const { key, provider } = await setup(overrides());
    const marker = uniqueName("codexns");
    const body = structuredClone((turn1 as Capture).body) as Json & { input: Json[] };
    // Forcing the member makes the emulator call it (it calls the tool tool_choice names, unless the
    // prompt asks for a shell command).
    body.input[body.input.length - 1] = { type: "message", role: "user", content: "close agent-1" };
    body.tool_choice = { type: "function", name: "close_agent", namespace: "multi_agent_v1" };
    const res = await replay({ ...(turn1 as Capture), body }, key, `${provider}/m`, marker);
    expect(res.status).toBe(200);
    const s = checkResponsesStream(await res.text());
    expect(s.violations).toEqual([]);
    expect(s.items).toEqual([
      expect.objectContaining({ type: "function_call", name: "close_agent", namespace: "multi_agent_v1" }),
    ]);
    const added = s.events.find((e) => e.type === "response.output_item.added")?.item;
    expect(added).toMatchObject({ name: "close_agent", namespace: "multi_agent_v1" });
    expect(JSON.parse(String(s.items[0]?.arguments))).toEqual({ target: "emulated" });
    const sent = (await upstreamOf(marker)).body;
    expect(sent.tool_choice).toEqual(
      format === "openai"
        ? { type: "function", function: { name: "multi_agent_v1__close_agent" } }
        : { type: "tool", name: "multi_agent_v1__close_agent" },
    );
  });
});
