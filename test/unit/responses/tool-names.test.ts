import { describe, expect, it } from "vitest";
import { ToolNames, type ClientTool } from "../../../src/formats/responses/tool-names";

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

describe("ToolNames", () => {
  it("keeps a plain name upstreams accept, and flattens a namespaced one to namespace__name", () => {
    const names = new ToolNames();
    expect(names.add({ name: "exec_command", kind: "function" })).toBe("exec_command");
    expect(names.add({ name: "spawn_agent", namespace: "multi_agent_v1", kind: "function" })).toBe(
      "multi_agent_v1__spawn_agent",
    );
    expect(names.clientTool("multi_agent_v1__spawn_agent")).toEqual({
      name: "spawn_agent",
      namespace: "multi_agent_v1",
      kind: "function",
    });
    expect(names.clientTool("exec_command")).toEqual({ name: "exec_command", kind: "function" });
  });

  it("answers the same name for the same tool, however often it is added", () => {
    const names = new ToolNames();
    const tool: ClientTool = { name: "a", namespace: "ns", kind: "custom" };
    expect(names.add(tool)).toBe(names.add({ ...tool }));
    expect(names.wireName(tool)).toBe("ns__a");
    expect(names.wireName({ name: "a", namespace: "ns", kind: "function" })).toBeNull();
  });

  it("replaces characters upstreams refuse", () => {
    const names = new ToolNames();
    const wire = names.add({ name: "read.file", namespace: "mcp:fs", kind: "function" });
    expect(wire).toMatch(VALID);
    expect(wire).toBe("mcp_fs__read_file");
    expect(names.clientTool(wire)).toEqual({ name: "read.file", namespace: "mcp:fs", kind: "function" });
  });

  it("shortens names over 64 characters, keeping them distinct, valid and reversible", () => {
    const names = new ToolNames();
    const long = "x".repeat(80);
    const a = names.add({ name: long, namespace: "ns", kind: "function" });
    const b = names.add({ name: `${long}y`, namespace: "ns", kind: "function" });
    const c = names.add({ name: long, kind: "function" });
    for (const wire of [a, b, c]) expect(wire).toMatch(VALID);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(names.clientTool(b)).toEqual({ name: `${long}y`, namespace: "ns", kind: "function" });
  });

  it("a collision with a name already given out gets a distinct, stable name", () => {
    const first = new ToolNames();
    expect(first.add({ name: "ns__tool", kind: "function" })).toBe("ns__tool");
    const collided = first.add({ name: "tool", namespace: "ns", kind: "function" });
    expect(collided).not.toBe("ns__tool");
    expect(collided).toMatch(/^ns__tool_[0-9a-f]{8}$/);
    // A function and a freeform tool of the same name are different tools.
    const custom = first.add({ name: "ns__tool", kind: "custom" });
    expect(new Set(["ns__tool", collided, custom]).size).toBe(3);

    // The same tools in another order get the same names: nothing depends on arrival order but the
    // plain name that came first.
    const second = new ToolNames();
    second.add({ name: "ns__tool", kind: "function" });
    second.add({ name: "ns__tool", kind: "custom" });
    expect(second.add({ name: "tool", namespace: "ns", kind: "function" })).toBe(collided);
  });

  it("an empty name still gets a valid one", () => {
    const names = new ToolNames();
    expect(names.add({ name: "", kind: "function" })).toMatch(VALID);
  });

  it("a name it never gave out comes back as a plain function of that name", () => {
    expect(new ToolNames().clientTool("made_up")).toEqual({ name: "made_up", kind: "function" });
  });
});
