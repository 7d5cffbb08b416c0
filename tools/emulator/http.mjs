// @ts-check
/**
 * Small node:http helpers shared by the emulator's endpoints: loopback checks, body reading, JSON
 * responses and abortable waits.
 */
import { isIP } from "node:net";

/** @typedef {import("node:http").IncomingMessage} IncomingMessage */
/** @typedef {import("node:http").ServerResponse} ServerResponse */

/** Largest request body the emulator reads (bytes); bigger bodies get a 413. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * True for a loopback host: `localhost`, any 127.0.0.0/8 address or ::1 (brackets allowed).
 * @param {string} host
 */
export function isLoopbackHost(host) {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || h.startsWith("::ffff:127.");
  return false;
}

/**
 * True when a peer address (req.socket.remoteAddress) is loopback.
 * @param {string | undefined} address
 */
export function isLoopbackAddress(address) {
  return address !== undefined && isLoopbackHost(address);
}

/**
 * Reads the whole request body. Resolves `null` when it exceeds MAX_BODY_BYTES.
 * @param {IncomingMessage} req
 * @returns {Promise<Buffer | null>}
 */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const parts = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      if (!tooLarge) parts.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * Parses a JSON body; `undefined` for an empty body, `null` plus `ok: false` for malformed JSON.
 * @param {Buffer} raw
 * @returns {{ ok: true, value: unknown } | { ok: false }}
 */
export function parseJson(raw) {
  if (raw.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/**
 * Sends a JSON response with content-length.
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Sends a plain-text response with content-length.
 * @param {ServerResponse} res
 * @param {number} status
 * @param {string} text
 * @param {Record<string, string>} [headers]
 */
export function sendText(res, status, text, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Waits `ms` milliseconds; resolves false early (and at once) when the signal aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<boolean>}
 */
export function sleep(ms, signal) {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (/** @type {boolean} */ ok) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Resolves when the signal aborts (used by the `hang` fault).
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
export function untilAborted(signal) {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * A signal that aborts when the client goes away before the response finished.
 * @param {ServerResponse} res
 * @returns {AbortSignal}
 */
export function clientGoneSignal(res) {
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Request headers as a plain object with lowercased names (repeated headers joined with ", ").
 * @param {IncomingMessage} req
 * @returns {Record<string, string>}
 */
export function plainHeaders(req) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
