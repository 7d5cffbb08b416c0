// @ts-check
/**
 * A server-sent-events writer that respects backpressure (waits for 'drain'), stops when the client
 * goes away, and applies the stream faults: chunk_delay_ms, cut_after, error_after and split_echo.
 */
import { sleep } from "./http.mjs";

/** @typedef {import("node:http").ServerResponse} ServerResponse */
/** @typedef {import("./faults.mjs").Fault} Fault */

/**
 * @typedef {object} SseWriter
 * @property {(frame: string) => Promise<boolean>} send writes one frame; false once the stream must
 *   stop (client gone, cut, or in-band error sent) and the handler should return
 * @property {() => Promise<void>} end finishes the response (or cuts it, with cut_after)
 */

/**
 * @param {ServerResponse} res
 * @param {AbortSignal} signal aborts when the client goes away
 * @param {Fault} fault
 * @param {() => string} errorFrame the in-band error frame for error_after, in the endpoint's format
 * @param {Record<string, string>} [headers] extra response headers
 * @returns {SseWriter}
 */
export function sseWriter(res, signal, fault, errorFrame, headers = {}) {
  let written = 0;
  let stopped = false;

  /** @param {string} data @returns {Promise<boolean>} */
  const write = (data) =>
    new Promise((resolve) => {
      if (signal.aborted || res.destroyed) return resolve(false);
      if (fault.cut_after !== undefined) {
        // With cut_after each frame must reach the socket before the socket may be destroyed.
        const onGone = () => resolve(false);
        signal.addEventListener("abort", onGone, { once: true });
        res.write(data, () => {
          signal.removeEventListener("abort", onGone);
          resolve(!signal.aborted);
        });
        return;
      }
      if (res.write(data)) return resolve(true);
      const onDrain = () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      };
      const onAbort = () => {
        res.off("drain", onDrain);
        resolve(false);
      };
      res.once("drain", onDrain);
      signal.addEventListener("abort", onAbort, { once: true });
    });

  const cut = () => {
    stopped = true;
    res.socket?.destroy();
  };

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...headers,
  });
  res.flushHeaders();

  return {
    async send(frame) {
      if (stopped) return false;
      if (written > 0 && fault.chunk_delay_ms) {
        if (!(await sleep(fault.chunk_delay_ms, signal))) return false;
      }
      if (fault.cut_after !== undefined && written >= fault.cut_after) {
        cut();
        return false;
      }
      if (fault.error_after !== undefined && written >= fault.error_after) {
        stopped = true;
        const frame = errorFrame();
        if (!fault.split_echo) {
          if (await write(frame)) res.end();
          return false;
        }
        // Two writes, apart in time, so the reader gets the frame (and the echoed value) in two chunks.
        const echoAt = fault.echoed ? frame.indexOf(fault.echoed) : -1;
        const at =
          echoAt >= 0 ? echoAt + Math.floor((fault.echoed?.length ?? 0) / 2) : Math.floor(frame.length / 2);
        if (!(await write(frame.slice(0, at)))) return false;
        if (!(await sleep(fault.chunk_delay_ms ?? 20, signal))) return false;
        if (await write(frame.slice(at))) res.end();
        return false;
      }
      written++;
      if (!(await write(frame))) {
        stopped = true;
        return false;
      }
      return true;
    },
    async end() {
      if (stopped) return;
      stopped = true;
      if (fault.cut_after !== undefined) cut();
      else if (!res.destroyed) res.end();
    },
  };
}

/**
 * An OpenAI-style frame: `data: <json>\n\n`.
 * @param {unknown} value
 */
export function dataFrame(value) {
  return `data: ${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;
}

/**
 * An Anthropic-style frame: `event: <type>\ndata: <json>\n\n`.
 * @param {string} type
 * @param {unknown} value
 */
export function eventFrame(type, value) {
  return `event: ${type}\ndata: ${JSON.stringify(value)}\n\n`;
}
