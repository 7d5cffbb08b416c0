import { describe, expect, it } from "vitest";
import { removeBetas, removeFields } from "../../src/upstream/passthrough-shaping";

describe("removeFields", () => {
  const body = {
    model: "m",
    context_management: { edits: [] },
    cache_control: { type: "ephemeral", scope: "global" },
    system: [{ type: "text", text: "s", cache_control: { type: "ephemeral", scope: "global" } }],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "t", cache_control: { type: "ephemeral", scope: "global", ttl: "5m" } },
          {
            type: "tool_result",
            tool_use_id: "x",
            cache_control: { type: "ephemeral", scope: "global" },
            content: [{ type: "text", text: "r", cache_control: { type: "ephemeral", scope: "global" } }],
          },
        ],
      },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "x", name: "f", input: { cache_control: { scope: 1 } } }],
      },
    ],
    tools: [{ name: "f", input_schema: {}, cache_control: { type: "ephemeral", scope: "global" } }],
  };

  it("removes a path on the body, system blocks, messages, their blocks and tool results' blocks", () => {
    const before = JSON.stringify(body);
    const out = removeFields(body, ["context_management", "cache_control.scope"]);
    expect(JSON.stringify(body)).toBe(before);
    expect(out).not.toHaveProperty("context_management");
    const wire = JSON.stringify(out);
    expect(wire.match(/"scope":"global"/g)).toBeNull();
    expect(wire).toContain('"ttl":"5m"');
    // A tool's input is the model's data, not a place where cache_control lives: two levels below a block.
    expect(wire).toContain('"input":{"cache_control":{"scope":1}}');
    expect(JSON.stringify(removeFields(body, []))).toBe(before);
  });

  it("keeps the body as it is (same object) when nothing matches", () => {
    expect(removeFields(body, ["nothing.here", "thinking"])).toBe(body);
  });

  it("removes a whole object field, and tolerates any shape", () => {
    const out = removeFields(body, ["cache_control"]);
    expect(JSON.stringify(out)).not.toContain('"type":"ephemeral"');
    const odd = { messages: "not a list", system: [1, null, "x"], tools: { a: 1 }, x: { y: "z" } };
    expect(removeFields(odd, ["x.y.z", "y"])).toBe(odd);
    expect(removeFields(odd, ["x.y"])).toEqual({ ...odd, x: {} });
  });
});

describe("removeBetas", () => {
  it("removes exact names and prefixes ending in *, keeping the order of the rest", () => {
    const headers = new Headers({
      "anthropic-beta":
        "claude-code-20250219, context-management-2025-06-27,prompt-caching-scope-2026-01-05,effort-2025-11-24",
    });
    removeBetas(headers, ["context-management-*", "prompt-caching-scope-2026-01-05", "effort-2025"]);
    expect(headers.get("anthropic-beta")).toBe("claude-code-20250219,effort-2025-11-24");
  });

  it("drops the header when nothing is left, and leaves other headers alone", () => {
    const headers = new Headers({ "anthropic-beta": "a-1", "x-other": "a-1" });
    removeBetas(headers, ["a-*"]);
    expect(headers.has("anthropic-beta")).toBe(false);
    expect(headers.get("x-other")).toBe("a-1");
    const untouched = new Headers();
    removeBetas(untouched, ["a-*"]);
    expect([...untouched.keys()]).toEqual([]);
  });
});
