import type { Provider } from "../config/schemas";
import { GatewayError } from "../errors";
import { accessToken, defaultTokenUrl } from "./oauth";

/** What the gateway sends upstream on a provider's behalf, and what must stay secret because of it. */
export type Credential = {
  /** The upstream's `Authorization` value; null for `auth: {type: "none"}`. */
  authorization: string | null;
  /**
   * Every value that must never reach a client, a log or an error: the bearer secret, or the OAuth access
   * token and the client secret. Text that came from upstream is redacted of all of them.
   */
  secrets: string[];
  /** For a token the upstream refused (401): a fresh one, once. Null where asking again cannot help. */
  renew: (() => Promise<Credential>) | null;
};

/** The value of a Worker secret a provider names; its value is never logged. */
export function secretValue(env: object, providerName: string, name: string): string {
  const value: unknown = (env as Record<string, unknown>)[name];
  if (typeof value !== "string" || value === "") {
    throw new GatewayError(
      "config",
      500,
      `Provider '${providerName}' names the secret '${name}', which is not set on this gateway.`,
    );
  }
  return value;
}

/**
 * The credential for one upstream request: the bearer secret as it is, or a service principal's access
 * token (cached in the isolate; see ./oauth.ts). `waitUntil` belongs to the current request.
 */
export async function providerCredential(
  env: object,
  providerName: string,
  provider: Provider,
  waitUntil: (p: Promise<unknown>) => void,
  rejected?: string,
): Promise<Credential> {
  const auth = provider.auth;
  if (auth.type === "none") return { authorization: null, secrets: [], renew: null };
  if (auth.type === "bearer") {
    const secret = secretValue(env, providerName, auth.secret);
    return { authorization: `Bearer ${secret}`, secrets: [secret], renew: null };
  }
  const clientId = secretValue(env, providerName, auth.clientId);
  const clientSecret = secretValue(env, providerName, auth.clientSecret);
  const client = {
    providerName,
    tokenUrl: auth.tokenUrl ?? defaultTokenUrl(provider.baseUrl),
    clientId,
    clientSecret,
  };
  const token = await accessToken(client, { waitUntil, ...(rejected !== undefined && { rejected }) });
  return {
    authorization: `Bearer ${token}`,
    secrets: [token, clientSecret],
    renew: () => providerCredential(env, providerName, provider, waitUntil, token),
  };
}
