/**
 * `Databricks-Ai-Gateway-Request-Tags`: a JSON object of strings that Databricks' usage and inference
 * tables record as `request_tags`. A provider with `requestTags: true` gets the gateway's tags (who made
 * the call) on every request, merged with the tags the client sent in the same header.
 */

export const REQUEST_TAGS_HEADER = "databricks-ai-gateway-request-tags";

export type RequestTags = Record<string, string>;

/** The names the gateway sets. A client's value under one of them is never sent on, so spend stays attributable. */
export const GATEWAY_TAG_NAMES = ["key", "key_id", "team", "route"] as const;

/** A client header longer than this, or with more entries, is dropped like a malformed one. */
const MAX_CLIENT_CHARS = 4096;
const MAX_CLIENT_TAGS = 32;

/** The client's tags: a JSON object whose values are all strings; anything else counts as none. */
export function parseRequestTags(value: string | null | undefined): RequestTags | null {
  if (value === null || value === undefined || value.length > MAX_CLIENT_CHARS) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const entries = Object.entries(parsed);
  if (entries.length > MAX_CLIENT_TAGS) return null;
  const tags: RequestTags = {};
  for (const [name, tag] of entries) {
    if (typeof tag !== "string") return null;
    tags[name] = tag;
  }
  return tags;
}

/** Who made the call, as tags: the key's name and id, its team and the route that served, where there is one. */
export function gatewayTags(who: {
  keyName: string;
  keyId: string;
  team: string | null;
  route: string | null;
}): RequestTags {
  return {
    key: who.keyName,
    key_id: who.keyId,
    ...(who.team !== null && { team: who.team }),
    ...(who.route !== null && { route: who.route }),
  };
}

/** The client's own tags kept, the gateway's names owned by the gateway (its value wins, or none is sent). */
export function mergeRequestTags(client: RequestTags | null, gateway: RequestTags): RequestTags {
  const merged: RequestTags = {};
  const reserved = new Set<string>(GATEWAY_TAG_NAMES);
  for (const [name, tag] of Object.entries(client ?? {})) if (!reserved.has(name)) merged[name] = tag;
  return { ...merged, ...gateway };
}

/**
 * The header value: JSON with every non-ASCII character escaped, since a header carries bytes and key
 * names may be any text. The escaped form is still the same JSON.
 */
export function encodeRequestTags(tags: RequestTags): string {
  return JSON.stringify(tags).replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
