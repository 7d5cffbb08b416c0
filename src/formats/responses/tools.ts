import type { z } from "zod";
import { fail } from "../translate/mapping";
import type { Result } from "../translate/types";
import { ToolNames, type ClientTool } from "./tool-names";
import { CustomToolIn, FunctionToolIn, NamespaceToolIn, ToolChoiceIn } from "./types";
import { prefixed } from "./validation";

/**
 * Responses `tools` → Chat Completions `tools`.
 *
 * - `function` tools keep their shape (and their name, when upstreams accept it);
 * - `namespace` tools are flattened: each member becomes a function named `namespace__member` (the
 *   namespace's description leads the member's), and calls are mapped back to the member and its
 *   namespace on the way out;
 * - `custom` (freeform) tools become a function with one string parameter, `input`, whose description
 *   carries the tool's grammar; the call comes back as a `custom_tool_call` with that input;
 * - every other type is a tool the provider would run itself (`web_search`, `image_generation`,
 *   `file_search`, `tool_search`, `local_shell`, `mcp`, ...): no Databricks model has it, so it is left out
 *   and named in `dropped` (the route's `x-bricklane-dropped` header) rather than refused, since a client
 *   that offers a tool still gets a sound answer without it.
 */

export interface ChatToolOut {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

export type ChatToolChoiceOut =
  "none" | "auto" | "required" | { type: "function"; function: { name: string } };

/** A tool declaration and where it was found (`tools[3]`, `input[0].tools[1]`), for error messages. */
export interface DeclaredTool {
  raw: unknown;
  path: string;
}

export interface ConvertedTools {
  tools: ChatToolOut[];
  names: ToolNames;
  dropped: string[];
}

const FREEFORM_INPUT = {
  type: "object",
  properties: {
    input: {
      type: "string",
      description: "The tool's whole input as raw text, exactly as it is to be used (not JSON-encoded).",
    },
  },
  required: ["input"],
  additionalProperties: false,
};

function typeOf(raw: unknown): string | undefined {
  return typeof raw === "object" && raw !== null && "type" in raw && typeof raw.type === "string"
    ? raw.type
    : undefined;
}

function joinDescriptions(...parts: (string | null | undefined)[]): string | undefined {
  const text = parts.filter((p): p is string => typeof p === "string" && p.trim() !== "").join("\n\n");
  return text === "" ? undefined : text;
}

/** One tool, with the namespace it sits in, ready to be named and converted. */
type Entry =
  | { kind: "function"; namespace?: string; nsDescription?: string | null; tool: FunctionTool }
  | { kind: "custom"; namespace?: string; nsDescription?: string | null; tool: CustomTool };
type FunctionTool = z.infer<typeof FunctionToolIn>;
type CustomTool = z.infer<typeof CustomToolIn>;

function readEntries(declared: readonly DeclaredTool[]): Result<{ entries: Entry[]; dropped: string[] }> {
  const entries: Entry[] = [];
  const dropped: string[] = [];
  const member = (raw: unknown, path: string, ns?: { name: string; description?: string | null }) => {
    const type = typeOf(raw);
    if (type === "function") {
      const parsed = FunctionToolIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      entries.push({
        kind: "function",
        tool: parsed.data,
        ...(ns && { namespace: ns.name, nsDescription: ns.description }),
      });
    } else if (type === "custom") {
      const parsed = CustomToolIn.safeParse(raw);
      if (!parsed.success) return prefixed(parsed.error, path);
      entries.push({
        kind: "custom",
        tool: parsed.data,
        ...(ns && { namespace: ns.name, nsDescription: ns.description }),
      });
    } else dropped.push(type ?? "tool");
    return null;
  };
  for (const { raw, path } of declared) {
    if (typeOf(raw) !== "namespace") {
      const failed = member(raw, path);
      if (failed) return failed;
      continue;
    }
    const parsed = NamespaceToolIn.safeParse(raw);
    if (!parsed.success) return prefixed(parsed.error, path);
    const ns = parsed.data;
    for (const [i, inner] of ns.tools.entries()) {
      const failed = member(inner, `${path}.tools[${i}]`, ns);
      if (failed) return failed;
    }
  }
  return { ok: true, value: { entries, dropped } };
}

const clientToolOf = (e: Entry): ClientTool =>
  e.namespace === undefined
    ? { name: e.tool.name, kind: e.kind }
    : { name: e.tool.name, namespace: e.namespace, kind: e.kind };

/**
 * Converts the declared tools; `history` names the tools the conversation's earlier calls used, so a call
 * to a tool the client no longer offers still gets a stable name. Plain functions are named first, so
 * they keep their own names whenever upstreams accept them.
 */
export function convertTools(
  declared: readonly DeclaredTool[],
  history: readonly ClientTool[],
): Result<ConvertedTools> {
  const read = readEntries(declared);
  if (!read.ok) return read;
  const { entries, dropped } = read.value;
  const names = new ToolNames();
  const plain = (e: Entry) => e.kind === "function" && e.namespace === undefined;
  for (const e of entries) if (plain(e)) names.add(clientToolOf(e));
  for (const e of entries) if (!plain(e)) names.add(clientToolOf(e));
  for (const t of history) names.add(t);

  const tools: ChatToolOut[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const wire = names.add(clientToolOf(e));
    // The same tool declared twice (a namespace repeated in additional_tools) is offered once.
    if (seen.has(wire)) continue;
    seen.add(wire);
    if (e.kind === "function") {
      const fn: ChatToolOut["function"] = {
        name: wire,
        parameters: e.tool.parameters ?? { type: "object", properties: {} },
      };
      const description = joinDescriptions(e.nsDescription, e.tool.description);
      if (description !== undefined) fn.description = description;
      if (e.tool.strict != null) fn.strict = e.tool.strict;
      tools.push({ type: "function", function: fn });
    } else {
      const format = e.tool.format;
      const grammar =
        format?.type === "grammar" && format.definition
          ? `The input must match this ${format.syntax ?? ""} grammar:\n${format.definition}`
          : null;
      const description = joinDescriptions(
        e.nsDescription,
        e.tool.description,
        "This tool takes freeform text: put all of it, as it is, in `input`.",
        grammar,
      );
      tools.push({
        type: "function",
        function: { name: wire, parameters: FREEFORM_INPUT, ...(description && { description }) },
      });
    }
  }
  return { ok: true, value: { tools, names, dropped } };
}

/**
 * `tool_choice` onto the converted tools. Naming a function or custom tool maps to its wire name;
 * `allowed_tools` keeps only the tools it lists. Forcing a tool that is not there (one that was dropped,
 * such as `{type: "web_search"}`, or a name never declared) is refused: answering without it would
 * silently ignore what the client required.
 */
export function convertToolChoice(
  raw: unknown,
  converted: ConvertedTools,
): Result<{ choice: ChatToolChoiceOut; tools: ChatToolOut[] }> {
  const parsed = ToolChoiceIn.safeParse(raw);
  const refuse = () =>
    fail(
      "tool_choice: only 'none', 'auto', 'required', a declared function or custom tool, or allowed_tools are supported; tools the provider would run itself were left out",
      "tool_choice",
    );
  if (!parsed.success) return refuse();
  const choice = parsed.data;
  if (typeof choice === "string") return { ok: true, value: { choice, tools: converted.tools } };
  const wireOf = (t: { type: string; name?: string | null; namespace?: string | null }) =>
    t.name && (t.type === "function" || t.type === "custom")
      ? converted.names.wireName({
          name: t.name,
          kind: t.type,
          ...(t.namespace != null && { namespace: t.namespace }),
        })
      : null;
  if (choice.type === "allowed_tools") {
    const allowed = new Set<string>();
    for (const t of choice.tools) {
      const wire = wireOf(t);
      if (wire === null) return refuse();
      allowed.add(wire);
    }
    const tools = converted.tools.filter((t) => allowed.has(t.function.name));
    return { ok: true, value: { choice: choice.mode, tools } };
  }
  const wire = wireOf(choice);
  if (wire === null || !converted.tools.some((t) => t.function.name === wire)) return refuse();
  return {
    ok: true,
    value: { choice: { type: "function", function: { name: wire } }, tools: converted.tools },
  };
}
