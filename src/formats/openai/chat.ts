import * as z from "zod";
import { textChars } from "../text-chars";

/**
 * What the gateway itself reads from a chat completions request: the model it routes on, whether to
 * stream, and `stream_options` (it asks for usage on streams). Everything else, messages included, goes
 * upstream as sent on passthrough; translation reads the rest with its own schemas.
 */
export const ChatRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type ChatRequestEnvelope = z.infer<typeof ChatRequestEnvelope>;

/** Characters of message text, for the token estimate when an upstream reports no usage; any shape. */
export function promptChars(messages: unknown): number {
  return textChars(messages, ["content", "text"]);
}
