/**
 * OpenAI Responses API (`POST /v1/responses`, Codex CLI) onto Chat Completions and Anthropic Messages:
 * pure request and response translators and SSE TransformStreams. See README.md in this folder.
 */
export {
  responseEcho,
  responsesPromptChars,
  responsesRequestToChat,
  statefulField,
  translateResponsesRequest,
  type ChatFromResponses,
  type ResponsesToChatOptions,
  type TranslatedResponsesRequest,
} from "./request";
export { ToolNames, type ClientTool, type ToolKind } from "./tool-names";
export { convertToolChoice, convertTools, type ChatToolOut, type ConvertedTools } from "./tools";
export { chatCompletionToResponse, messageToResponse, type ResponseObjectOptions } from "./response";
export { chatSseToResponsesSse, finishFromChat, type ChatToResponsesStreamOptions } from "./chat-stream";
export {
  anthropicSseToResponsesSse,
  finishFromStopReason,
  type AnthropicToResponsesStreamOptions,
} from "./anthropic-stream";
export { ResponsesWriter, newResponseId, type Finish, type WriterOptions } from "./writer";
export { callItem, freeformInput } from "./calls";
export { continueRequest, eventOutcome, turnAfter, type SocketTurn } from "./continuation";
export type * from "./types";
