// @ts-check
/**
 * The control API under /__emulator/ (no auth, loopback peers only): recorded requests, waiting for
 * one, the fault queue and a health check.
 */
import { FaultError, parseFault } from "./faults.mjs";
import { clientGoneSignal, isLoopbackAddress, parseJson, readBody, sendJson } from "./http.mjs";

/** @typedef {import("node:http").IncomingMessage} IncomingMessage */
/** @typedef {import("node:http").ServerResponse} ServerResponse */
/**
 * One recorded API request.
 * @typedef {object} RecordedRequest
 * @property {string} method
 * @property {string} path the path without the query string
 * @property {Record<string, string>} query the query parameters
 * @property {Record<string, string>} headers lowercased names
 * @property {unknown} body the parsed JSON body, or null (no body or not JSON)
 * @property {boolean} clientClosed the client went away before the response was finished
 */
/**
 * @typedef {object} EmulatorState
 * @property {RecordedRequest[]} requests
 * @property {import("./faults.mjs").FaultQueue} faults
 * @property {import("./oauth.mjs").OAuthState} oauth
 * @property {() => number} inFlight API requests being answered right now
 * @property {Waiters} waiters control requests waiting for a recorded request to reach a state
 */

/**
 * Waits for recorded requests: tests wait on the event itself (the request arrived, its client went
 * away) instead of polling the request log.
 */
export class Waiters {
  /** @type {Set<{ test: (r: RecordedRequest) => boolean, resolve: () => void }>} */
  #waiting = new Set();

  /**
   * Resolves once `test` holds for a request passed to notify (the caller checks those already recorded).
   * @param {(r: RecordedRequest) => boolean} test
   * @param {AbortSignal} signal gives up (resolves) when the waiting client goes away
   * @returns {Promise<void>}
   */
  wait(test, signal) {
    return new Promise((resolve) => {
      const waiter = { test, resolve };
      this.#waiting.add(waiter);
      signal.addEventListener("abort", () => (this.#waiting.delete(waiter), resolve()), { once: true });
    });
  }

  /** @param {RecordedRequest} recorded a request just recorded, or whose state just changed */
  notify(recorded) {
    for (const waiter of this.#waiting) {
      if (!waiter.test(recorded)) continue;
      this.#waiting.delete(waiter);
      waiter.resolve();
    }
  }
}

/**
 * Handles a /__emulator/* request.
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 * @param {URL} url
 * @param {EmulatorState} state
 */
export async function control(req, res, url, state) {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    return sendJson(res, 403, { error: "the control API answers loopback clients only" });
  }
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "GET /__emulator/health":
      return sendJson(res, 200, { ok: true, inFlight: state.inFlight() });
    case "GET /__emulator/requests":
      return sendJson(res, 200, state.requests);
    case "DELETE /__emulator/requests": {
      const cleared = state.requests.length;
      state.requests.length = 0;
      return sendJson(res, 200, { cleared });
    }
    case "GET /__emulator/wait": {
      const header = url.searchParams.get("header")?.toLowerCase();
      const value = url.searchParams.get("value");
      const until = url.searchParams.get("until") ?? "received";
      if (!header || value === null || (until !== "received" && until !== "closed")) {
        return sendJson(res, 400, { error: "wait needs header, value and until=received|closed" });
      }
      /** @param {RecordedRequest} r */
      const reached = (r) => r.headers[header] === value && (until === "received" || r.clientClosed);
      if (!state.requests.some(reached)) await state.waiters.wait(reached, clientGoneSignal(res));
      return sendJson(res, 200, { ok: true });
    }
    case "GET /__emulator/faults":
      return sendJson(res, 200, state.faults.list());
    case "DELETE /__emulator/faults":
      state.faults.clear();
      return sendJson(res, 200, { cleared: true });
    case "POST /__emulator/faults": {
      const raw = await readBody(req);
      const parsed = raw === null ? { ok: false } : parseJson(raw);
      if (!parsed.ok || !("value" in parsed)) return sendJson(res, 400, { error: "body must be JSON" });
      const specs = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
      try {
        const faults = specs.map(parseFault);
        state.faults.push(...faults);
        return sendJson(res, 200, { queued: faults.length, pending: state.faults.list().length });
      } catch (err) {
        if (err instanceof FaultError) return sendJson(res, 400, { error: err.message });
        throw err;
      }
    }
    case "GET /__emulator/oauth":
      return sendJson(res, 200, state.oauth.status());
    case "PUT /__emulator/oauth": {
      const raw = await readBody(req);
      const parsed = raw === null ? { ok: false } : parseJson(raw);
      const value = "value" in parsed ? parsed.value : undefined;
      const settings = oauthSettings(value);
      if (typeof settings === "string") return sendJson(res, 400, { error: settings });
      state.oauth.configure(settings);
      return sendJson(res, 200, state.oauth.status());
    }
    case "POST /__emulator/oauth/revoke":
      return sendJson(res, 200, { revoked: state.oauth.revokeAll() });
    default:
      return sendJson(res, 404, { error: `no control route ${route}` });
  }
}

/**
 * `{lifetimeS?, failStatus?}` from a control request, or what is wrong with it.
 * @param {unknown} value
 * @returns {Partial<import("./oauth.mjs").OAuthSettings> | string}
 */
function oauthSettings(value) {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "body must be a JSON object";
  /** @type {Partial<import("./oauth.mjs").OAuthSettings>} */
  const out = {};
  for (const [name, v] of Object.entries(value)) {
    if (name === "lifetimeS") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return "lifetimeS must be an integer >= 0";
      out.lifetimeS = v;
    } else if (name === "failStatus") {
      if (v !== null && (typeof v !== "number" || !Number.isInteger(v) || v < 400 || v > 599)) {
        return "failStatus must be null or a status between 400 and 599";
      }
      out.failStatus = v;
    } else return `unknown setting '${name}'`;
  }
  return out;
}
