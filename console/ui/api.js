/**
 * The admin API, called with the admin token. The token lives in sessionStorage: it is kept for this
 * tab only, never in a URL and never in localStorage.
 */
const TOKEN_KEY = "bricklane.adminToken";

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An error answer from the gateway: its message and, for validation, every problem found. */
export class ApiError extends Error {
  constructor(status, body, text) {
    super(body?.error?.message ?? (text || `HTTP ${status}`));
    this.status = status;
    this.issues = body?.error?.issues ?? [];
  }
}

let onSignedOut = () => {};
export const whenSignedOut = (fn) => (onSignedOut = fn);

export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${session.token() ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the text is the message
  }
  if (!res.ok) {
    if (res.status === 401) {
      session.signOut();
      onSignedOut();
    }
    throw new ApiError(res.status, json, text);
  }
  return json;
}

/** `?a=1&b=2` from the non-empty entries. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** YYYY-MM-DD (UTC) of `days` days before today. */
export const dayBefore = (days) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

export const fmt = {
  int: (n) => (n ?? 0).toLocaleString("en-US"),
  usd: (n) => `$${(n ?? 0).toFixed((n ?? 0) < 1 ? 4 : 2)}`,
  pct: (n) => `${((n ?? 0) * 100).toFixed(1)}%`,
  ms: (n) => (n === undefined || n === null ? "–" : `${Math.round(n)} ms`),
  time: (t) =>
    t === undefined || t === null ? "–" : new Date(t).toISOString().replace("T", " ").slice(0, 19),
};

/** A CSV file from rows (objects) and the columns to take, downloaded by the browser. */
export function downloadCsv(filename, columns, rows) {
  const cell = (v) => {
    const s = v === undefined || v === null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))];
  const url = URL.createObjectURL(new Blob([`${lines.join("\n")}\n`], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

/**
 * Recent calls, newest first, from GET /admin/calls; `null` when this gateway has no call log (404).
 * Pages are followed while `keep(call)` holds for the last call of a page, up to `maxPages`.
 */
export async function recentCalls(params, { keep = () => false, maxPages = 1 } = {}) {
  const calls = [];
  let cursor;
  for (let page = 0; page < maxPages; page++) {
    let res;
    try {
      res = await api("GET", `/admin/calls${query({ ...params, cursor })}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && page === 0) return null;
      throw e;
    }
    calls.push(...(res?.data ?? []));
    cursor = res?.nextCursor;
    const last = calls[calls.length - 1];
    if (!cursor || !last || !keep(last)) return { calls, nextCursor: cursor ?? null };
  }
  return { calls, nextCursor: cursor ?? null };
}
