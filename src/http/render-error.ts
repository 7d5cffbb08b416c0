import type { ErrorCode, Issue } from "../errors";
import type { WireFormat } from "../env";

/** OpenAI's `type` for each error code (the SDK picks its error class from the status, not this). */
const OPENAI_TYPE: Record<ErrorCode, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  request_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  upstream_auth: "upstream_error",
  upstream_error: "upstream_error",
  overloaded: "upstream_error",
  timeout: "timeout_error",
  config: "server_error",
  internal: "server_error",
};

/** Anthropic's fixed set of error types. */
function anthropicType(code: ErrorCode): string {
  switch (code) {
    case "invalid_request":
      return "invalid_request_error";
    case "authentication":
      return "authentication_error";
    case "permission":
      return "permission_error";
    case "not_found":
      return "not_found_error";
    case "request_too_large":
      return "request_too_large";
    case "rate_limit":
      return "rate_limit_error";
    case "overloaded":
      return "overloaded_error";
    default:
      return "api_error";
  }
}

export function errorBody(
  format: WireFormat,
  err: {
    code: ErrorCode;
    status: number;
    message: string;
    param: string | null;
    issues?: Issue[] | undefined;
  },
): unknown {
  if (format === "anthropic") {
    return { type: "error", error: { type: anthropicType(err.code), message: err.message } };
  }
  const error = { message: err.message, type: OPENAI_TYPE[err.code], param: err.param, code: err.code };
  return { error: err.issues ? { ...error, issues: err.issues } : error };
}

/** The in-band error frame for a stream that already started (invariant 5). */
export function errorFrame(format: WireFormat, code: ErrorCode, message: string): string {
  const body = JSON.stringify(errorBody(format, { code, status: 502, message, param: null }));
  return format === "anthropic" ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`;
}
