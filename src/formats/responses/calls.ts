import type { ToolNames } from "./tool-names";
import type { ItemStatus, ToolCallItemOut } from "./types";

/**
 * An upstream tool call as the output item the client expects: a `function_call` with the tool's own name
 * (and its namespace, when it has one), or a `custom_tool_call` with the raw input for a freeform tool.
 */
export function callItem(
  names: ToolNames | undefined,
  call: { id: string; callId: string; wireName: string; arguments: string; status: ItemStatus },
): ToolCallItemOut {
  const tool = names?.clientTool(call.wireName) ?? { name: call.wireName, kind: "function" as const };
  const namespace = tool.namespace === undefined ? {} : { namespace: tool.namespace };
  if (tool.kind === "custom") {
    return {
      id: call.id,
      type: "custom_tool_call",
      status: call.status,
      call_id: call.callId,
      name: tool.name,
      ...namespace,
      input: call.arguments === "" ? "" : freeformInput(call.arguments),
    };
  }
  return {
    id: call.id,
    type: "function_call",
    status: call.status,
    call_id: call.callId,
    name: tool.name,
    ...namespace,
    arguments: call.arguments,
  };
}

/**
 * The raw input of a freeform call from the arguments of the function it was offered as
 * (`{"input": "..."}`). Arguments in another shape are passed on as they are: the tool then reports the
 * malformed input to the model, as it would any bad input.
 */
export function freeformInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (typeof parsed === "string") return parsed;
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "input" in parsed &&
      typeof parsed.input === "string"
    ) {
      return parsed.input;
    }
  } catch {
    // not JSON: the model wrote the input itself
  }
  return args;
}
