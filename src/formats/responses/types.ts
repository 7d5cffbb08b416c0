import * as z from "zod";

/**
 * The parts of OpenAI's Responses API (`POST /v1/responses`) the gateway reads and writes. Input schemas
 * are loose (unknown fields are ignored, never rejected); output types are plain TypeScript, built here.
 */

// ---------------------------------------------------------------------------------------------------
// Request

const JsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  { message: "Invalid input: expected a JSON object" },
);

export const InputText = z.looseObject({ type: z.literal("input_text"), text: z.string() });
export const OutputTextIn = z.looseObject({ type: z.literal("output_text"), text: z.string() });
export const RefusalIn = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });
export const InputImage = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.string().nullish(),
});
export const InputFile = z.looseObject({
  type: z.literal("input_file"),
  file_data: z.string().nullish(),
  file_id: z.string().nullish(),
  file_url: z.string().nullish(),
  filename: z.string().nullish(),
});

export const TextPartIn = z.looseObject({ type: z.literal("text"), text: z.string() });

const KNOWN_PARTS = new Set(["input_text", "output_text", "text", "refusal", "input_image", "input_file"]);

/** Content parts this gateway reads; any other type is mapped to `{type: "other", part_type}`. */
export const ContentPart = z.preprocess(
  (value: unknown) =>
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    typeof value.type === "string" &&
    !KNOWN_PARTS.has(value.type)
      ? { type: "other", part_type: value.type }
      : value,
  z.discriminatedUnion("type", [
    InputText,
    OutputTextIn,
    TextPartIn,
    RefusalIn,
    InputImage,
    InputFile,
    z.object({ type: z.literal("other"), part_type: z.string() }),
  ]),
);

export type ContentPart = z.infer<typeof ContentPart>;

export const MessageItemIn = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(ContentPart)]),
});
export const FunctionCallItemIn = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().min(1).nullish(),
  arguments: z.string(),
});
export const FunctionCallOutputItemIn = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
});
/** A call of a freeform (`custom`) tool: its input is raw text, not JSON. */
export const CustomToolCallItemIn = z.looseObject({
  type: z.literal("custom_tool_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().min(1).nullish(),
  input: z.string(),
});
export const CustomToolCallOutputItemIn = z.looseObject({
  type: z.literal("custom_tool_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(ContentPart)]),
});
/** Tools declared inside the input (Codex does so for some models) instead of in `tools`. */
export const AdditionalToolsItemIn = z.looseObject({
  type: z.literal("additional_tools"),
  tools: z.array(z.unknown()),
});

export const FunctionToolIn = z.looseObject({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: JsonObject.nullish(),
  strict: z.boolean().nullish(),
});

/** A freeform tool: the model writes raw text (a patch, a script), optionally following a grammar. */
export const CustomToolIn = z.looseObject({
  type: z.literal("custom"),
  name: z.string().min(1),
  description: z.string().nullish(),
  format: z
    .looseObject({
      type: z.string(),
      syntax: z.string().nullish(),
      definition: z.string().nullish(),
    })
    .nullish(),
});

/** A group of function and custom tools (Codex's sub-agent tools, an MCP server's tools). */
export const NamespaceToolIn = z.looseObject({
  type: z.literal("namespace"),
  name: z.string().min(1),
  description: z.string().nullish(),
  tools: z.array(z.unknown()),
});

export const ToolChoiceIn = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({
    type: z.enum(["function", "custom"]),
    name: z.string().min(1),
    namespace: z.string().nullish(),
  }),
  z.looseObject({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(
      z.looseObject({ type: z.string(), name: z.string().nullish(), namespace: z.string().nullish() }),
    ),
  }),
]);

export const TextFormatIn = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string(),
    schema: JsonObject,
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

/** The request fields translation reads; `input` items and `tools` are checked one by one. */
export const ResponsesRequest = z.looseObject({
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(z.unknown())]),
  instructions: z.string().nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stream: z.boolean().nullish(),
  user: z.string().nullish(),
  text: z.looseObject({ format: z.unknown().optional(), verbosity: z.string().nullish() }).nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish() }).nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  prompt: z.unknown().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

// ---------------------------------------------------------------------------------------------------
// Response

export interface OutputTextOut {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export interface MessageItemOut {
  id: string;
  type: "message";
  status: ItemStatus;
  role: "assistant";
  content: OutputTextOut[];
}

export interface FunctionCallItemOut {
  id: string;
  type: "function_call";
  status: ItemStatus;
  call_id: string;
  name: string;
  /** The namespace of a namespaced tool, as the client declared it; Codex dispatches on name + namespace. */
  namespace?: string;
  arguments: string;
}

/** A call of a freeform tool: `input` is the raw text the model wrote. */
export interface CustomToolCallItemOut {
  id: string;
  type: "custom_tool_call";
  status: ItemStatus;
  call_id: string;
  name: string;
  namespace?: string;
  input: string;
}

export interface ReasoningItemOut {
  id: string;
  type: "reasoning";
  status?: ItemStatus;
  summary: { type: "summary_text"; text: string }[];
}

export type ToolCallItemOut = FunctionCallItemOut | CustomToolCallItemOut;

export type OutputItemOut = MessageItemOut | ToolCallItemOut | ReasoningItemOut;

export interface ResponseUsageOut {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** Request settings a response object echoes back, as OpenAI's do. */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  tool_choice: unknown;
  tools: unknown[];
  text: unknown;
  reasoning: unknown;
  user?: string;
  metadata: Record<string, unknown>;
}

export interface ResponseOut extends ResponseEcho {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  model: string;
  output: OutputItemOut[];
  output_text?: string;
  previous_response_id: null;
  store: false;
  truncation: "disabled";
  usage: ResponseUsageOut | null;
}
