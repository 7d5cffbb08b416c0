import * as z from "zod";
import { jsonChars, textChars } from "../text-chars";

/**
 * What the gateway itself reads from an Anthropic Messages request: the model it routes on and whether
 * to stream. Nothing else is checked, because on passthrough everything else (roles, block types,
 * thinking, cache_control, fields of betas the gateway has never heard of) goes upstream as sent, and the
 * upstream is the judge of it. Translation reads the rest with its own schemas.
 */
export const MessagesRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  stream: z.boolean().nullish(),
});

/** count_tokens: the same, without streaming. */
export const CountTokensEnvelope = MessagesRequestEnvelope.omit({ stream: true });

/**
 * Characters of system, message and tool text, for estimates (count_tokens to OpenAI providers, usage an
 * upstream did not report). Text, tool inputs and tool results cost tokens; image data is not text.
 */
export function messagesPromptChars(body: Record<string, unknown>): number {
  const tools = Array.isArray(body.tools) ? jsonChars(body.tools) : 0;
  return textChars([body.system, body.messages], ["text", "content"], ["input"]) + tools;
}
