// @ts-check
/**
 * GET /api/2.1/unity-catalog/models: a paged list of registered models over a fixed catalog, with the
 * real Databricks quirk of a page that is empty but still carries a next_page_token.
 */
import { sendJson } from "./http.mjs";

/** @typedef {import("./openai.mjs").HandlerContext} HandlerContext */

/** Page size when max_results is absent or 0. */
export const DEFAULT_PAGE_SIZE = 3;

const CREATED = Date.UTC(2025, 0, 15);
const UPDATED = Date.UTC(2025, 5, 1);

/** The fixed catalog (system.ai). */
export const MODELS = [
  "databricks-claude-sonnet-4",
  "databricks-claude-3-7-sonnet",
  "databricks-meta-llama-3-3-70b-instruct",
  "databricks-llama-4-maverick",
  "databricks-gpt-oss-120b",
  "databricks-gte-large-en",
  "databricks-bge-large-en",
  "databricks-claude-sonnet-4-5",
].map((name, i) => ({
  name,
  catalog_name: "system",
  schema_name: "ai",
  full_name: `system.ai.${name}`,
  owner: "System user",
  comment: `Emulated foundation model ${name}`,
  created_at: CREATED + i * 86_400_000,
  updated_at: UPDATED + i * 86_400_000,
}));

/**
 * A Databricks REST error body.
 * @param {string} errorCode
 * @param {string} message
 */
export function databricksError(errorCode, message) {
  return { error_code: errorCode, message };
}

/**
 * Page tokens are opaque to clients: base64url of `o:<offset>` (a real page) or `e:<offset>` (the
 * empty page served once, right after the first page).
 * @param {"o" | "e"} kind
 * @param {number} offset
 */
const token = (kind, offset) => Buffer.from(`${kind}:${offset}`).toString("base64url");

/**
 * @param {string} value
 * @returns {{ kind: "o" | "e", offset: number } | null}
 */
function readToken(value) {
  const match = /^([oe]):(\d+)$/.exec(Buffer.from(value, "base64url").toString("utf8"));
  if (!match) return null;
  return { kind: /** @type {"o" | "e"} */ (match[1]), offset: Number(match[2]) };
}

/**
 * @param {HandlerContext} ctx
 */
export async function listModels(ctx) {
  const { res, url } = ctx;
  const rawMax = url.searchParams.get("max_results");
  const max = rawMax === null || rawMax === "" ? 0 : Number(rawMax);
  if (!Number.isInteger(max) || max < 0 || max > 1000) {
    return sendJson(res, 400, databricksError("INVALID_PARAMETER_VALUE", "max_results must be 0..1000"));
  }
  const size = max === 0 ? DEFAULT_PAGE_SIZE : max;
  const rawToken = url.searchParams.get("page_token");
  const position = rawToken ? readToken(rawToken) : { kind: "o", offset: 0 };
  if (position === null) {
    return sendJson(res, 400, databricksError("INVALID_PARAMETER_VALUE", "invalid page_token"));
  }
  if (position.kind === "e") {
    return sendJson(res, 200, { registered_models: [], next_page_token: token("o", position.offset) });
  }
  const end = position.offset + size;
  const page = MODELS.slice(position.offset, end);
  /** @type {{ registered_models: typeof MODELS, next_page_token?: string }} */
  const out = { registered_models: page };
  if (end < MODELS.length) out.next_page_token = token(position.offset === 0 ? "e" : "o", end);
  sendJson(res, 200, out);
}
