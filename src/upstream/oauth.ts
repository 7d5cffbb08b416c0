import * as z from "zod";
import { GatewayError } from "../errors";
import { readBounded } from "./errors";
import { Redactor } from "./redactor";

/**
 * OAuth machine-to-machine tokens for Databricks service principals: `client_credentials` against the
 * workspace's `/oidc/v1/token`, with the client id and secret as HTTP Basic.
 *
 * Each isolate keeps the tokens it obtained in module state, one per provider and client, and uses a token
 * until REFRESH_MARGIN_MS before it expires. Calls that find no usable token while a refresh is under way
 * wait for that refresh instead of starting their own, so a burst costs one token request. The refresh
 * runs in the request that started it and is registered with that request's waitUntil: workerd cancels a
 * promise when the request that created it ends, and the requests waiting on it must not be left hanging.
 * Only the resolved token (a string and an expiry) outlives the request; no I/O object does.
 */

/** A token is not used in its last minute, so no call goes out with a token about to lapse. */
export const REFRESH_MARGIN_MS = 60_000;
const TOKEN_TIMEOUT_MS = 10_000;

export type OAuthClient = {
  providerName: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
};

type Token = { accessToken: string; expiresAt: number };

export type TokenOptions = {
  /** Keeps the refresh alive past the end of the request that started it. */
  waitUntil: (p: Promise<unknown>) => void;
  /** A token the upstream refused (401): dropped, unless another request has already replaced it. */
  rejected?: string;
  now?: () => number;
  fetcher?: typeof fetch;
};

const tokens = new Map<string, Token>();
const refreshes = new Map<string, Promise<Token>>();

/** What `/oidc/v1/token` answers; other fields (scope, …) are ignored. */
const TokenAnswer = z.object({
  access_token: z.string().min(1).max(16_384),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

/** The workspace's token endpoint: the origin of the provider's baseUrl + `/oidc/v1/token`. */
export function defaultTokenUrl(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/oidc/v1/token`;
}

const cacheKey = (c: OAuthClient) => `${c.providerName}\n${c.tokenUrl}\n${c.clientId}`;

/** An access token for the client: the cached one while it is fresh, else one refresh shared by all. */
export async function accessToken(client: OAuthClient, opts: TokenOptions): Promise<string> {
  const now = opts.now ?? Date.now;
  const key = cacheKey(client);
  const cached = tokens.get(key);
  if (cached && opts.rejected !== undefined && cached.accessToken === opts.rejected) tokens.delete(key);
  else if (cached && now() < cached.expiresAt - REFRESH_MARGIN_MS) return cached.accessToken;

  let refresh = refreshes.get(key);
  if (!refresh) {
    refresh = requestToken(client, opts.fetcher ?? fetch, now).then(
      (token) => {
        tokens.set(key, token);
        refreshes.delete(key);
        return token;
      },
      (e: unknown) => {
        refreshes.delete(key);
        throw e;
      },
    );
    refreshes.set(key, refresh);
    opts.waitUntil(refresh.catch(() => {}));
  }
  return (await refresh).accessToken;
}

function basicCredentials(clientId: string, clientSecret: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(`${clientId}:${clientSecret}`))
    binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function requestToken(client: OAuthClient, fetcher: typeof fetch, now: () => number): Promise<Token> {
  const who = `Provider '${client.providerName}' could not get an OAuth token`;
  // The lifetime counts from before the request, so the token is never thought to live longer than it does.
  const requestedAt = now();
  let res: Response;
  try {
    res = await fetcher(client.tokenUrl, {
      method: "POST",
      headers: {
        authorization: `Basic ${basicCredentials(client.clientId, client.clientSecret)}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: "grant_type=client_credentials&scope=all-apis",
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    });
  } catch (e) {
    throw new GatewayError("upstream_error", 502, `${who}: its token endpoint is unreachable.`, {
      internal: `token request to ${client.tokenUrl} failed: ${e instanceof Error ? e.message : String(e)}`,
      retryClass: "connection",
    });
  }
  // The client secret may come back in any form (an echoed Basic header is its base64): taken out as read.
  const text = await readBounded(res, Redactor.for(client.clientSecret));
  if (!res.ok) {
    const internal = `token endpoint ${res.status}: ${text.slice(0, 1000)}`;
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new GatewayError(
        "upstream_auth",
        502,
        `${who}: the token endpoint refused its service principal (HTTP ${res.status}). Check the client id and secret the provider names.`,
        { internal, retryClass: "auth" },
      );
    }
    throw new GatewayError(
      "upstream_error",
      502,
      `${who} (the token endpoint answered HTTP ${res.status}).`,
      {
        internal,
        retryClass: res.status === 429 ? "429" : "5xx",
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const answer = TokenAnswer.safeParse(parsed);
  if (!answer.success || (answer.data.token_type && answer.data.token_type.toLowerCase() !== "bearer")) {
    // The body may hold a token: only the shape is logged.
    throw new GatewayError("upstream_error", 502, `${who}: the token endpoint's answer is unreadable.`, {
      internal: answer.success ? `token_type ${answer.data.token_type}` : answer.error.message,
      retryClass: "5xx",
    });
  }
  return {
    accessToken: answer.data.access_token,
    expiresAt: requestedAt + answer.data.expires_in * 1000,
  };
}
