import type { z } from "zod";
import { tooDeep } from "../bounds";
import type {
  AntOutputConfig,
  AntThinking,
  Failure,
  FinishReason,
  OaiResponsePart,
  ReasoningEffort,
  StopReason,
} from "./types";

/** Small mappings shared by the request, response and stream translators. */

// ---------------------------------------------------------------------------------------------------
// Stop reasons

const FINISH_BY_STOP: Record<StopReason, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

export function finishReasonFromStopReason(stopReason: string | null | undefined): FinishReason {
  // hasOwn: an upstream stop_reason such as "constructor" must not reach Object.prototype.
  return stopReason && Object.hasOwn(FINISH_BY_STOP, stopReason)
    ? FINISH_BY_STOP[stopReason as StopReason]
    : "stop";
}

/**
 * Some OpenAI-compatible servers (vLLM, several Databricks-served models) answer `stop` even when the turn
 * ends in tool calls; Anthropic clients (Claude Code) only run tools on `tool_use`, so the presence of tool
 * calls wins over a plain `stop`.
 */
export function stopReasonFromFinishReason(
  finishReason: string | null | undefined,
  hasToolUse: boolean,
): StopReason {
  switch (finishReason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return hasToolUse ? "tool_use" : "end_turn";
  }
}

// ---------------------------------------------------------------------------------------------------
// Tool calls

/**
 * OpenAI tool-call `arguments` are a JSON string written by the model and Anthropic wants an object.
 * Empty, unparsable or non-object arguments (a model cut off by max_tokens, a server that sends "")
 * become `{}`: rejecting them would make the whole conversation unusable from then on, and the tool
 * result that follows in the history already tells the model what happened. Arguments nested too deep to
 * walk count as unparsable.
 */
export function parseToolArguments(args: string | null | undefined): Record<string, unknown> {
  if (!args || args.trim() === "" || tooDeep(args)) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * Anthropic accepts tool ids matching ^[a-zA-Z0-9_-]+$ only, while other providers use ids such as
 * "functions.get_weather:0". The same rewrite is applied to tool_use ids and tool_result references, so
 * the pairing survives.
 */
export function anthropicToolId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, "_");
  return clean === "" ? "toolu_empty" : clean;
}

// ---------------------------------------------------------------------------------------------------
// Thinking and effort

const EFFORT_LEVELS: Record<string, ReasoningEffort> = {
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
  xhigh: "high",
  max: "high",
};

/**
 * Anthropic's `output_config.effort` and `thinking` as OpenAI's `reasoning_effort`. Only low, medium and
 * high are sent: they are the levels every OpenAI-compatible reasoning model takes (gpt-oss on Databricks
 * included), so Anthropic's `xhigh` and `max` become `high`. Without an effort, a thinking budget picks the
 * level (below 4096 tokens low, below 16384 medium, else high); adaptive or disabled thinking sends
 * nothing, leaving the model's default.
 */
export function reasoningEffortFor(
  thinking: AntThinking | null | undefined,
  outputConfig: AntOutputConfig | null | undefined,
): ReasoningEffort | undefined {
  const effort = outputConfig?.effort;
  if (effort != null && Object.hasOwn(EFFORT_LEVELS, effort)) return EFFORT_LEVELS[effort];
  if (thinking?.type !== "enabled" || thinking.budget_tokens == null) return undefined;
  if (thinking.budget_tokens < 4096) return "low";
  return thinking.budget_tokens < 16384 ? "medium" : "high";
}

// ---------------------------------------------------------------------------------------------------
// Anthropic's client tools with a built-in schema

const BASH_PARAMETERS = {
  type: "object",
  properties: {
    command: { type: "string", description: "The bash command to run." },
    restart: { type: "boolean", description: "Restart the shell session instead of running a command." },
  },
};

function textEditorParameters(withUndo: boolean) {
  const commands = ["view", "create", "str_replace", "insert", ...(withUndo ? ["undo_edit"] : [])];
  return {
    type: "object",
    properties: {
      command: { type: "string", enum: commands },
      path: { type: "string", description: "Absolute path of the file or directory." },
      file_text: { type: "string", description: "create: the new file's content." },
      old_str: { type: "string", description: "str_replace: the exact text to replace." },
      new_str: { type: "string", description: "str_replace: the replacement; insert: the text to insert." },
      insert_line: { type: "integer", description: "insert: the line after which to insert." },
      view_range: {
        type: "array",
        items: { type: "integer" },
        description: "view: first and last line to show (-1 for the end).",
      },
    },
    required: ["command", "path"],
  };
}

/**
 * Anthropic's bash and text editor tools are run by the client, like any function tool; only their schema
 * is built into the model. Sent to an OpenAI-format model as function tools with that schema spelled
 * out, the client keeps receiving the same calls. Other typed tools (computer use, memory, server tools)
 * have no such stand-in.
 */
export function builtInClientTool(
  type: string,
): { description: string; parameters: Record<string, unknown> } | null {
  if (/^bash_\d{8}$/.test(type)) {
    return { description: "Run a command in a persistent bash shell.", parameters: BASH_PARAMETERS };
  }
  const editor = /^text_editor_(\d{8})$/.exec(type);
  if (editor) {
    return {
      description: "View, create and edit text files.",
      parameters: textEditorParameters((editor[1] ?? "") < "20250429"),
    };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Content

/** OpenAI-compatible servers send content as a string or, Databricks for reasoning models, as parts. */
export function contentParts(content: string | OaiResponsePart[] | null | undefined): OaiResponsePart[] {
  if (content == null) return [];
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

// ---------------------------------------------------------------------------------------------------
// Data URLs

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s;

export function parseBase64DataUrl(url: string): { mediaType: string; data: string } | null {
  const match = DATA_URL.exec(url);
  if (!match) return null;
  return { mediaType: match[1] ?? "", data: match[3] ?? "" };
}

export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

// ---------------------------------------------------------------------------------------------------
// Validation messages

/** OpenAI-style parameter path: messages[2].content[0].image_url.url */
export function paramPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * zod reports a failed `string | array` union as a bare "Invalid input" at the union's path. The branch
 * whose first issue sits deepest is the one the caller meant, so report that one instead.
 */
function deepestIssue(
  issue: z.core.$ZodIssue,
  base: readonly PropertyKey[],
): { path: PropertyKey[]; message: string } {
  const path = [...base, ...issue.path];
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return { path, message: issue.message };
  let best: { path: PropertyKey[]; message: string } | null = null;
  let bestDepth = 0;
  const expected: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first) continue;
    if (first.path.length === 0 && first.code === "invalid_type") expected.push(first.expected);
    if (first.path.length === 0 && first.code === "invalid_value") {
      expected.push(...first.values.map((v) => JSON.stringify(v)));
    }
    if (first.path.length > bestDepth) {
      bestDepth = first.path.length;
      best = deepestIssue(first, path);
    }
  }
  if (best) return best;
  return {
    path,
    message: expected.length > 0 ? `Invalid input: expected ${expected.join(" or ")}` : issue.message,
  };
}

export function invalid(error: z.ZodError, what: string): Failure {
  const first = error.issues[0];
  if (!first) return { ok: false, message: `Invalid ${what}`, param: null };
  const { path, message } = deepestIssue(first, []);
  const param = path.length > 0 ? paramPath(path) : null;
  return { ok: false, message: param ? `${param}: ${message}` : message, param };
}

export function fail(message: string, param: string | null): Failure {
  return { ok: false, message, param };
}
