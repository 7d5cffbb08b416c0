import * as z from "zod";

/**
 * What the gateway itself reads from an Anthropic Messages request. Loose: everything else (cache_control,
 * thinking, betas' fields, …) goes upstream as it came.
 */
export const MessagesRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant"]) })).min(1),
  stream: z.boolean().nullish(),
});

/** count_tokens takes the same body without max_tokens. */
export const CountTokensEnvelope = MessagesRequestEnvelope.omit({ max_tokens: true, stream: true });

function textOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, part) => n + textOf(part), 0);
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    // Text, tool inputs and tool results all cost tokens; binary image data is not text.
    return textOf(v.text) + textOf(v.content) + (v.input !== undefined ? JSON.stringify(v.input).length : 0);
  }
  return 0;
}

/** Characters of system and message text, for estimates (count_tokens to OpenAI providers, usage). */
export function messagesPromptChars(body: Record<string, unknown>): number {
  const tools = Array.isArray(body.tools) ? JSON.stringify(body.tools).length : 0;
  return textOf(body.system) + textOf(body.messages) + tools;
}
