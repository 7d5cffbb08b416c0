import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import turn1 from "../fixtures/clients/claude-code-2.1.197-turn1.json";
import turn2 from "../fixtures/clients/claude-code-2.1.197-turn2-tool-result.json";
import { PAT, anthropicFormat, emulatorRequests, setup, sseEvents, type Json } from "./helpers";

/**
 * What Claude Code 2.1.197 sent on the wire (test/fixtures/clients), replayed through the gateway to an
 * anthropic provider (passthrough) and an openai provider (translation): a `role: "system"` message inside
 * `messages`, adaptive thinking, `output_config.effort`, `context_management`, `cache_control` on blocks,
 * `?beta=true` and seven betas. Each must answer a complete Anthropic event stream.
 */

type Capture = { path: string; headers: Record<string, string>; body: Json };
const CAPTURES: [string, Capture][] = [
  ["turn 1 (the user's request)", turn1 as Capture],
  ["turn 2 (a tool result)", turn2 as Capture],
];

const UPSTREAM_MODEL = "databricks-claude-sonnet-4-5";

async function replay(capture: Capture, providerOverrides: Json) {
  const { key, provider } = await setup(providerOverrides);
  const marker = crypto.randomUUID();
  const body = { ...capture.body, model: `${provider}/${UPSTREAM_MODEL}` };
  const res = await SELF.fetch(`http://gateway.test${capture.path}`, {
    method: "POST",
    // The capture's headers carry no credentials: the key goes in the way ANTHROPIC_AUTH_TOKEN sends it.
    headers: { ...capture.headers, authorization: `Bearer ${key}`, "x-trace": marker },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const seen = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker);
  return { res, text, body, seen };
}

/** A complete Anthropic stream: message_start, well-nested blocks, one message_delta, message_stop. */
function expectCompleteStream(text: string) {
  const events = sseEvents(text);
  const names = events.map((e) => e.event);
  expect(names[0]).toBe("message_start");
  expect(names.at(-1)).toBe("message_stop");
  expect(names).not.toContain("error");
  expect(names.filter((n) => n === "message_delta")).toHaveLength(1);
  let open: number | null = null;
  let next = 0;
  const blocks: Json[] = [];
  for (const e of events) {
    expect(e.data.type).toBe(e.event);
    if (e.event === "content_block_start") {
      expect(open).toBeNull();
      expect(e.data.index).toBe(next);
      open = next;
      blocks.push({ ...(e.data.content_block as Json), deltas: "" });
    } else if (e.event === "content_block_delta") {
      expect(e.data.index).toBe(open);
      const d = e.data.delta as { text?: string; partial_json?: string };
      const block = blocks[blocks.length - 1] as Json;
      block.deltas = `${String(block.deltas)}${d.text ?? d.partial_json ?? ""}`;
    } else if (e.event === "content_block_stop") {
      expect(e.data.index).toBe(open);
      open = null;
      next += 1;
    }
  }
  expect(open).toBeNull();
  const delta = events.find((e) => e.event === "message_delta")?.data.delta as { stop_reason: string };
  return { blocks, stopReason: delta.stop_reason };
}

/** Turn 1 asks for `run-bash: echo hi > p.txt`: a Bash call; turn 2 carries its result: text quoting it. */
function expectAnswerTo(capture: Capture, stream: ReturnType<typeof expectCompleteStream>) {
  if (capture === turn1) {
    expect(stream.stopReason).toBe("tool_use");
    const call = stream.blocks.find((b) => b.type === "tool_use");
    expect(call?.name).toBe("Bash");
    expect(JSON.parse(String(call?.deltas))).toMatchObject({ command: "echo hi > p.txt" });
  } else {
    expect(stream.stopReason).toBe("end_turn");
    expect(stream.blocks.map((b) => b.deltas).join("")).toContain("(Bash completed with no output)");
  }
}

describe.each(CAPTURES)("Claude Code 2.1.197, %s", (_name, capture) => {
  it("passthrough to an anthropic provider: the upstream gets the body as sent but for model, and every beta", async () => {
    const { res, text, body, seen } = await replay(capture, anthropicFormat());
    expect(res.status, text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    expectAnswerTo(capture, expectCompleteStream(text));

    expect(seen?.path).toBe("/anthropic/v1/messages");
    expect(seen?.body).toEqual({ ...body, model: UPSTREAM_MODEL });
    // Same order of keys as sent, so the bytes the upstream parses are the client's.
    expect(JSON.stringify(seen?.body)).toBe(JSON.stringify({ ...capture.body, model: UPSTREAM_MODEL }));
    expect(seen?.headers["anthropic-beta"]).toBe(capture.headers["anthropic-beta"]);
    expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen?.headers["x-claude-code-session-id"]).toBe(capture.headers["x-claude-code-session-id"]);
    expect(seen?.headers.authorization).toBe(`Bearer ${PAT}`);
  });

  it("translated for an openai provider: system message in place, effort mapped, tuning fields gone", async () => {
    const { res, text, seen } = await replay(capture, {});
    expect(res.status, text).toBe(200);
    expect(res.headers.get("x-bricklane-dropped")).toBeNull();
    expectAnswerTo(capture, expectCompleteStream(text));

    expect(seen?.path).toBe("/mlflow/v1/chat/completions");
    const sent = seen?.body as {
      messages: { role: string; content: unknown }[];
      tools: { type: string; function: { name: string } }[];
      reasoning_effort?: string;
    };
    const roles = sent.messages.map((m) => m.role);
    // The top-level system prompt first, then the conversation with its system message where it was.
    expect(roles.slice(0, 3)).toEqual(["system", "user", "system"]);
    expect(sent.messages[2]?.content).toBe((capture.body.messages as { content: string }[])[1]?.content);
    expect(sent.reasoning_effort).toBe("high");
    expect(sent.tools.map((t) => t.function.name)).toEqual(
      (capture.body.tools as { name: string }[]).map((t) => t.name),
    );
    const wire = JSON.stringify(sent);
    for (const gone of ["cache_control", "context_management", "output_config", '"thinking"']) {
      expect(wire).not.toContain(gone);
    }
    if (capture === turn2) expect(roles.slice(3)).toEqual(["assistant", "tool"]);
  });
});
