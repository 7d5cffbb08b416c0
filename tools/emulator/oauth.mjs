// @ts-check
/**
 * The workspace's OAuth endpoint for service principals (machine-to-machine): `POST /oidc/v1/token` with
 * `grant_type=client_credentials&scope=all-apis` and the client id and secret as HTTP Basic, answering
 * `{access_token, token_type, expires_in, scope}` as Databricks does. The API endpoints accept the tokens
 * it issued until they expire or are revoked. Lifetimes are selectable (short ones test expiry) and the
 * endpoint can be told to fail, through the control API or the JS handle.
 */
import { randomBytes } from "node:crypto";
import { sendJson } from "./http.mjs";

export const DEFAULT_CLIENT_ID = "bricklane-local-sp";
export const DEFAULT_CLIENT_SECRET = "emulator-sp-secret";
/** Databricks' OAuth tokens live an hour. */
export const DEFAULT_TOKEN_LIFETIME_S = 3600;

/**
 * @typedef {object} OAuthSettings
 * @property {number} lifetimeS seconds a newly issued token lives (its `expires_in`)
 * @property {number | null} failStatus when set, the token endpoint answers this status instead of a token
 */

/**
 * @typedef {object} OAuthState
 * @property {() => OAuthSettings & { issued: number, active: number }} status
 * @property {(settings: Partial<OAuthSettings>) => void} configure
 * @property {() => number} revokeAll revokes every issued token; returns how many were still active
 * @property {(authorization: string | undefined) => boolean} accepts whether `Bearer <token>` is a live token
 * @property {(req: import("node:http").IncomingMessage, raw: Buffer | null, res: import("node:http").ServerResponse) => void} token
 *   answers a token request
 */

/**
 * @param {{ clientId?: string, clientSecret?: string, lifetimeS?: number }} [options]
 * @returns {OAuthState}
 */
export function oauthServer({
  clientId = DEFAULT_CLIENT_ID,
  clientSecret = DEFAULT_CLIENT_SECRET,
  lifetimeS = DEFAULT_TOKEN_LIFETIME_S,
} = {}) {
  /** @type {OAuthSettings} */
  const settings = { lifetimeS, failStatus: null };
  /** token → expiry (epoch ms) */
  const tokens = new Map();
  let issued = 0;

  const live = () => {
    const now = Date.now();
    for (const [token, expiresAt] of tokens) if (expiresAt <= now) tokens.delete(token);
    return tokens.size;
  };

  /** @param {string | undefined} header */
  const basicCredentials = (header) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
    if (!match?.[1]) return null;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? null : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  };

  return {
    status: () => ({ ...settings, issued, active: live() }),
    configure(next) {
      if (next.lifetimeS !== undefined) settings.lifetimeS = next.lifetimeS;
      if (next.failStatus !== undefined) settings.failStatus = next.failStatus;
    },
    revokeAll() {
      const active = live();
      tokens.clear();
      return active;
    },
    accepts(authorization) {
      const match = /^Bearer\s+(\S+)$/.exec(authorization ?? "");
      const expiresAt = match?.[1] ? tokens.get(match[1]) : undefined;
      return expiresAt !== undefined && expiresAt > Date.now();
    },
    token(req, raw, res) {
      if (settings.failStatus !== null) {
        return sendJson(res, settings.failStatus, {
          error: "temporarily_unavailable",
          error_description: `emulator: token endpoint told to fail with ${settings.failStatus}`,
        });
      }
      const client = basicCredentials(req.headers.authorization);
      if (!client || client.id !== clientId || client.secret !== clientSecret) {
        return sendJson(res, 401, {
          error: "invalid_client",
          error_description: "Client authentication failed",
        });
      }
      const form = new URLSearchParams(raw === null ? "" : raw.toString("utf8"));
      if (form.get("grant_type") !== "client_credentials") {
        return sendJson(res, 400, {
          error: "unsupported_grant_type",
          error_description: "emulator: grant_type must be client_credentials",
        });
      }
      if (!(form.get("scope") ?? "").split(" ").includes("all-apis")) {
        return sendJson(res, 400, {
          error: "invalid_scope",
          error_description: "emulator: scope must include all-apis",
        });
      }
      const token = `emu-oauth-${randomBytes(24).toString("hex")}`;
      tokens.set(token, Date.now() + settings.lifetimeS * 1000);
      issued++;
      return sendJson(res, 200, {
        access_token: token,
        token_type: "Bearer",
        expires_in: settings.lifetimeS,
        scope: "all-apis",
      });
    },
  };
}
