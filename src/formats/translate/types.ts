import * as z from "zod";
import type { Usage } from "../usage";

/**
 * The parts of the OpenAI Chat Completions and Anthropic Messages wire formats that translation reads.
 *
 * Input schemas are loose on purpose: every object accepts unknown fields (providers and SDKs add new ones
 * all the time) and translation simply does not read them. What a translator cannot express in the
 * other format is rejected with a message, never thrown. Output types are plain TypeScript: we build
 * those objects ourselves, so validating them again would only cost time.
 */

// ---------------------------------------------------------------------------------------------------
// Shared

/**
 * What every translator returns instead of throwing; `param` names the offending field, OpenAI style.
 * `dropped` names what a request translator left out because the target format has no equivalent and a
 * capability disappears with it (a hosted tool, say): the route reports it in `x-bricklane-dropped`.
 * Fields that only tune the call are dropped without a mention.
 */
export type Result<T> = { ok: true; value: T; dropped?: readonly string[] } | Failure;

/** What a translator that cannot go on returns: why, and the field at fault (OpenAI style), if any. */
export type Failure = { ok: false; message: string; param: string | null };

/**
 * What a response translator returns: the client's body, and the usage the upstream reported (null: none,
 * so the caller estimates), read from the upstream's own counts. The gateway books those, not what the
 * client's format can say (OpenAI's has no place for cache writes).
 */
export type Translated<T> = { ok: true; value: T; usage: Usage | null } | Failure;

/** One parsed SSE event, as eventsource-parser's EventSourceParserStream yields it. */
export interface ParsedEvent {
  event?: string | undefined;
  data: string;
}

/**
 * Tool inputs and JSON schemas are passed along as they are. z.record would copy them key by key (slow for
 * big schemas) and silently drop a "__proto__" key; checking the shape and keeping the reference does neither.
 */
const JsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  { message: "Invalid input: expected a JSON object" },
);

/** Stands in for any tagged member whose `type` a translator does not know, so it can be skipped. */
const Other = z.object({ type: z.literal("other") });

/**
 * Upstreams add block and part types over time (server tools, citations, ...). Mapping the unknown tags to
 * `{type:"other"}` before a discriminated union keeps known members strictly checked and unknown ones
 * harmless.
 */
function unknownTagsToOther(known: readonly string[]) {
  return (value: unknown): unknown =>
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    typeof value.type === "string" &&
    !known.includes(value.type)
      ? { type: "other" }
      : value;
}

/**
 * Stands in for a request part or block whose `type` a translator does not know: the rule is to drop it and
 * name it in `x-bricklane-dropped`, so the original type travels along.
 */
const Unknown = z.object({ type: z.literal("unknown"), name: z.string() });
export type UnknownPart = z.infer<typeof Unknown>;

/**
 * Like `unknownTagsToOther`, for requests: an object with a string `type` outside `known` becomes
 * `{type: "unknown", name: <its type>}`, which a discriminated union then accepts.
 */
function unknownTagsToUnknown(known: readonly string[]) {
  return (value: unknown): unknown =>
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    typeof value.type === "string" &&
    !known.includes(value.type)
      ? { type: "unknown", name: value.type }
      : value;
}

// ---------------------------------------------------------------------------------------------------
// OpenAI Chat Completions: request

const OaiTextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const OaiImagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string(), detail: z.string().nullish() }),
});
const OaiAudioPart = z.looseObject({ type: z.literal("input_audio") });
const OaiFilePart = z.looseObject({
  type: z.literal("file"),
  file: z.looseObject({
    file_data: z.string().nullish(),
    file_id: z.string().nullish(),
    filename: z.string().nullish(),
  }),
});
const OaiRefusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const OaiUserPart = z.preprocess(
  unknownTagsToUnknown(["text", "image_url", "input_audio", "file"]),
  z.discriminatedUnion("type", [OaiTextPart, OaiImagePart, OaiAudioPart, OaiFilePart, Unknown]),
);
const OaiAssistantPart = z.preprocess(
  unknownTagsToUnknown(["text", "refusal"]),
  z.discriminatedUnion("type", [OaiTextPart, OaiRefusalPart, Unknown]),
);
const OaiTextContent = z.union([z.string(), z.array(OaiTextPart)]);

const OaiToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function").nullish(),
  function: z.looseObject({ name: z.string(), arguments: z.string().nullish() }),
});

const OaiMessage = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("system"), content: OaiTextContent }),
  z.looseObject({ role: z.literal("developer"), content: OaiTextContent }),
  z.looseObject({ role: z.literal("user"), content: z.union([z.string(), z.array(OaiUserPart)]) }),
  z.looseObject({
    role: z.literal("assistant"),
    content: z.union([z.string(), z.array(OaiAssistantPart)]).nullish(),
    refusal: z.string().nullish(),
    tool_calls: z.array(OaiToolCall).nullish(),
  }),
  z.looseObject({ role: z.literal("tool"), tool_call_id: z.string(), content: OaiTextContent }),
  z.looseObject({ role: z.literal("function") }),
]);

/** Function tools are translated; any other type (custom grammars, hosted tools) is dropped and named. */
const OaiTool = z.looseObject({
  type: z.string(),
  function: z
    .looseObject({
      name: z.string(),
      description: z.string().nullish(),
      parameters: JsonObject.nullish(),
    })
    .nullish(),
});

const OaiToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

export const OaiChatRequest = z.looseObject({
  model: z.string().nullish(),
  messages: z.array(OaiMessage),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  top_k: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  stream: z.boolean().nullish(),
  n: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().nullish(),
  user: z.string().nullish(),
  tools: z.array(OaiTool).nullish(),
  tool_choice: OaiToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
  web_search_options: z.unknown().optional(),
  audio: z.unknown().optional(),
});
export type OaiChatRequest = z.infer<typeof OaiChatRequest>;
export type OaiMessageIn = z.infer<typeof OaiMessage>;
export type OaiUserPartIn = z.infer<typeof OaiUserPart>;

// ---------------------------------------------------------------------------------------------------
// OpenAI Chat Completions: what we produce

export type OaiContentPartOut =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "file"; file: { file_data: string; filename?: string } };

export interface OaiToolCallOut {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type OaiMessageOut =
  | { role: "system"; content: string | OaiContentPartOut[] }
  | { role: "user"; content: string | OaiContentPartOut[] }
  | { role: "assistant"; content: string | OaiContentPartOut[] | null; tool_calls?: OaiToolCallOut[] }
  | { role: "tool"; tool_call_id: string; content: string | OaiContentPartOut[] };

export type ReasoningEffort = "low" | "medium" | "high";

export interface OaiChatRequestOut {
  model: string;
  messages: OaiMessageOut[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  user?: string;
  tools?: {
    type: "function";
    function: { name: string; description?: string; parameters: Record<string, unknown> };
  }[];
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } };
  parallel_tool_calls?: boolean;
  reasoning_effort?: ReasoningEffort;
  response_format?: {
    type: "json_schema";
    json_schema: { name: string; schema: Record<string, unknown> };
  };
}

export interface OaiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface OaiChatCompletionOut {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      refusal: null;
      tool_calls?: OaiToolCallOut[];
      /** Not part of OpenAI's schema; the de-facto field (DeepSeek, vLLM, OpenRouter) for reasoning. */
      reasoning_content?: string;
    };
    logprobs: null;
    finish_reason: FinishReason;
  }[];
  usage: OaiUsage;
}

// ---------------------------------------------------------------------------------------------------
// OpenAI Chat Completions: what upstreams send back (non-stream and stream)

const OaiUsageIn = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
});
export type OaiUsageIn = z.infer<typeof OaiUsageIn>;

/**
 * Databricks returns reasoning models' output as content parts: `text`, and `reasoning` with a
 * `summary` list. Anything else in a content array is ignored.
 */
const OaiResponsePart = z.preprocess(
  unknownTagsToOther(["text", "reasoning"]),
  z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("text"), text: z.string() }),
    z.looseObject({
      type: z.literal("reasoning"),
      summary: z.array(
        z.looseObject({ type: z.string(), text: z.string().nullish(), signature: z.string().nullish() }),
      ),
    }),
    Other,
  ]),
);
export type OaiResponsePart = z.infer<typeof OaiResponsePart>;
const OaiResponseContent = z.union([z.string(), z.array(OaiResponsePart)]).nullish();

export const OaiChatCompletionIn = z.looseObject({
  id: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().nullish(),
      message: z.looseObject({
        content: OaiResponseContent,
        refusal: z.string().nullish(),
        reasoning_content: z.string().nullish(),
        reasoning: z.string().nullish(),
        tool_calls: z
          .array(
            z.looseObject({
              id: z.string().nullish(),
              function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }),
            }),
          )
          .nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: OaiUsageIn.nullish(),
});
export type OaiChatCompletionIn = z.infer<typeof OaiChatCompletionIn>;

export const OaiChunkIn = z.looseObject({
  id: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: z
          .looseObject({
            content: OaiResponseContent,
            refusal: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            reasoning: z.string().nullish(),
            tool_calls: z
              .array(
                z.looseObject({
                  index: z.number().int().nonnegative().nullish(),
                  id: z.string().nullish(),
                  function: z
                    .looseObject({ name: z.string().nullish(), arguments: z.string().nullish() })
                    .nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: OaiUsageIn.nullish(),
});
export type OaiChunkIn = z.infer<typeof OaiChunkIn>;

// ---------------------------------------------------------------------------------------------------
// Anthropic Messages: request

const CacheControlled = { cache_control: z.unknown().optional() };
const AntTextBlock = z.looseObject({ type: z.literal("text"), text: z.string(), ...CacheControlled });
const AntImageBlock = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: z.string() }),
  ]),
});
const AntDocumentBlock = z.looseObject({
  type: z.literal("document"),
  source: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: z.string() }),
    z.looseObject({ type: z.literal("text"), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: z.string() }),
  ]),
  title: z.string().nullish(),
});
const AntToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: JsonObject,
});
const AntToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z
    .union([
      z.string(),
      z.array(
        z.preprocess(
          unknownTagsToUnknown(["text", "image", "document"]),
          z.discriminatedUnion("type", [AntTextBlock, AntImageBlock, AntDocumentBlock, Unknown]),
        ),
      ),
    ])
    .optional(),
  is_error: z.boolean().nullish(),
});
const AntThinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
const AntRedactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking") });

const AntBlock = z.preprocess(
  unknownTagsToUnknown([
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
  ]),
  z.discriminatedUnion("type", [
    AntTextBlock,
    AntImageBlock,
    AntDocumentBlock,
    AntToolUseBlock,
    AntToolResultBlock,
    AntThinkingBlock,
    AntRedactedThinkingBlock,
    Unknown,
  ]),
);
export type AntBlockIn = z.infer<typeof AntBlock>;
const AntSystemBlock = z.preprocess(
  unknownTagsToUnknown(["text"]),
  z.discriminatedUnion("type", [AntTextBlock, Unknown]),
);

const AntToolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().nullish() }),
  z.looseObject({ type: z.literal("none") }),
  z.looseObject({
    type: z.literal("tool"),
    name: z.string(),
    disable_parallel_tool_use: z.boolean().nullish(),
  }),
]);

/** `effort` is a string so that a level added later is read as the nearest one, not rejected. */
const AntOutputConfig = z.looseObject({
  effort: z.string().nullish(),
  format: z.looseObject({ type: z.string(), schema: JsonObject.nullish() }).nullish(),
});
export type AntOutputConfig = z.infer<typeof AntOutputConfig>;

const AntThinking = z.looseObject({ type: z.string(), budget_tokens: z.number().nullish() });
export type AntThinking = z.infer<typeof AntThinking>;

export const AntMessagesRequest = z.looseObject({
  model: z.string().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  system: z.union([z.string(), z.array(AntSystemBlock)]).nullish(),
  messages: z.array(
    z.looseObject({
      // "system" in the conversation is what Claude Code sends (beta mid-conversation-system-2026-04-07).
      role: z.enum(["user", "assistant", "system"]),
      content: z.union([z.string(), z.array(AntBlock)]),
    }),
  ),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  stop_sequences: z.array(z.string()).nullish(),
  stream: z.boolean().nullish(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
  tools: z
    .array(
      z.looseObject({
        type: z.string().nullish(),
        // Server tools such as `mcp_toolset` have no name; custom tools must have one.
        name: z.string().nullish(),
        description: z.string().nullish(),
        input_schema: JsonObject.nullish(),
      }),
    )
    .nullish(),
  tool_choice: AntToolChoice.nullish(),
  thinking: AntThinking.nullish(),
  output_config: AntOutputConfig.nullish(),
  /** The structured-outputs beta's spelling of `output_config.format`. */
  output_format: z.looseObject({ type: z.string(), schema: JsonObject.nullish() }).nullish(),
  mcp_servers: z.unknown().optional(),
  container: z.unknown().optional(),
});
export type AntMessagesRequest = z.infer<typeof AntMessagesRequest>;

// ---------------------------------------------------------------------------------------------------
// Anthropic Messages: what we produce

export type AntImageSource =
  { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };

export type AntContentBlockOut =
  | { type: "text"; text: string }
  | { type: "image"; source: AntImageSource }
  | { type: "document"; source: AntImageSource; title?: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | {
      type: "tool_result";
      tool_use_id: string;
      content?: string | { type: "text"; text: string }[];
    };

export interface AntMessageOut {
  role: "user" | "assistant";
  content: AntContentBlockOut[];
}

export type AntToolChoiceOut =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "none" }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean };

export interface AntMessagesRequestOut {
  model: string;
  max_tokens: number;
  system?: { type: "text"; text: string }[];
  messages: AntMessageOut[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id: string };
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: AntToolChoiceOut;
}

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

export interface AntUsageOut {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type AntResponseBlockOut =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface AntMessageResponseOut {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AntResponseBlockOut[];
  stop_reason: StopReason;
  stop_sequence: null;
  usage: AntUsageOut;
}

// ---------------------------------------------------------------------------------------------------
// Anthropic Messages: what upstreams send back (non-stream and stream)

export const AntUsageIn = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type AntUsageIn = z.infer<typeof AntUsageIn>;

/** Response blocks we translate; server-tool blocks and future types fall through to the last member. */
const AntResponseBlockIn = z.preprocess(
  unknownTagsToOther(["text", "thinking", "tool_use"]),
  z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("text"), text: z.string() }),
    z.looseObject({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().nullish() }),
    z.looseObject({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.unknown() }),
    Other,
  ]),
);

export const AntMessageIn = z.looseObject({
  id: z.string().nullish(),
  content: z.array(AntResponseBlockIn),
  stop_reason: z.string().nullish(),
  usage: AntUsageIn.nullish(),
});
export type AntMessageIn = z.infer<typeof AntMessageIn>;

export const AntMessageStartIn = z.looseObject({
  message: z.looseObject({ id: z.string().nullish(), usage: AntUsageIn.nullish() }),
});
export const AntBlockStartIn = z.looseObject({
  index: z.number().int().nonnegative(),
  content_block: z.preprocess(
    unknownTagsToOther(["text", "thinking", "tool_use"]),
    z.discriminatedUnion("type", [
      z.looseObject({ type: z.literal("text"), text: z.string().nullish() }),
      z.looseObject({ type: z.literal("thinking"), thinking: z.string().nullish() }),
      z.looseObject({ type: z.literal("tool_use"), id: z.string(), name: z.string() }),
      Other,
    ]),
  ),
});
export const AntBlockDeltaIn = z.looseObject({
  index: z.number().int().nonnegative(),
  delta: z.preprocess(
    unknownTagsToOther(["text_delta", "input_json_delta", "thinking_delta"]),
    z.discriminatedUnion("type", [
      z.looseObject({ type: z.literal("text_delta"), text: z.string() }),
      z.looseObject({ type: z.literal("input_json_delta"), partial_json: z.string() }),
      z.looseObject({ type: z.literal("thinking_delta"), thinking: z.string() }),
      Other,
    ]),
  ),
});
export const AntMessageDeltaIn = z.looseObject({
  delta: z.looseObject({ stop_reason: z.string().nullish() }).nullish(),
  usage: AntUsageIn.nullish(),
});
