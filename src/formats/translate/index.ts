/**
 * Pure translation between OpenAI Chat Completions and Anthropic Messages: requests, non-streaming
 * responses and SSE streams. Nothing here does I/O; the routes decide when to call what.
 */
export { chatRequestToMessages, type ChatRequestToMessagesOptions } from "./openai-to-anthropic-request";
export { messagesRequestToChat, type MessagesRequestToChatOptions } from "./anthropic-to-openai-request";
export { chatCompletionToMessage, messageToChatCompletion, type ResponseOptions } from "./responses";
export { anthropicSseToOpenAiSse, type AnthropicToOpenAiStreamOptions } from "./anthropic-to-openai-stream";
export { openAiSseToAnthropicSse, type OpenAiToAnthropicStreamOptions } from "./openai-to-anthropic-stream";
export { translateSseStream, type SseTranslator, type UsageCallback } from "./sse";
export { finishReasonFromStopReason, stopReasonFromFinishReason } from "./mapping";
export type {
  AntMessageResponseOut,
  AntMessagesRequestOut,
  OaiChatCompletionOut,
  OaiChatRequestOut,
  ParsedEvent,
  Result,
  Translated,
} from "./types";
