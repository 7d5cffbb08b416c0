import * as z from "zod";

/**
 * What the gateway itself reads from a chat completions request. Loose on purpose: every other field is
 * forwarded untouched (Databricks and others accept extras), so only these are checked.
 */
export const ChatRequestEnvelope = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string().min(1) })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type ChatRequestEnvelope = z.infer<typeof ChatRequestEnvelope>;

/** Characters of text in the messages, for the token estimate when an upstream reports no usage. */
export function promptChars(messages: ReadonlyArray<Record<string, unknown>>): number {
  let chars = 0;
  for (const m of messages) {
    const content = m.content;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) {
      for (const part of content) {
        if (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string") {
          chars += part.text.length;
        }
      }
    }
  }
  return chars;
}
