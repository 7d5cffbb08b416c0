/**
 * An OpenAI-compatible upstream that streams two tool calls with interleaved argument fragments, as the
 * local Databricks emulator does with the fault `tool_calls=2` (data lines only, in order).
 */
const chunk = (delta: object, finish_reason: string | null = null) => ({
  id: "chatcmpl-interleaved",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt",
  choices: [{ index: 0, delta, finish_reason }],
});
const start = (index: number, id: string) =>
  chunk({
    tool_calls: [{ index, id, type: "function", function: { name: "get_weather", arguments: "" } }],
  });
const fragment = (index: number, args: string) =>
  chunk({ tool_calls: [{ index, function: { arguments: args } }] });

export const interleavedTwoCalls: (object | "[DONE]")[] = [
  chunk({ role: "assistant", content: null }),
  start(0, "call_1"),
  start(1, "call_2"),
  fragment(0, '{"city'),
  fragment(1, '{"city'),
  fragment(0, '":"emulated"}'),
  fragment(1, '":"emulated"}'),
  chunk({}, "tool_calls"),
  {
    id: "chatcmpl-interleaved",
    object: "chat.completion.chunk",
    choices: [],
    usage: { prompt_tokens: 20, completion_tokens: 24, total_tokens: 44 },
  },
  "[DONE]",
];
