import type { Context } from "hono";
import type { Target } from "../config/resolve";
import type { AppEnv } from "../env";
import { upstreamError } from "./errors";
import { providerSecret, upstreamHeaders, upstreamUrl } from "./request";
import { sendUpstream } from "./send";

/**
 * One upstream call, from a resolved target and a ready body to a successful response: the provider's
 * secret injected, the client's credentials stripped, the first-byte timeout applied, and every upstream
 * failure mapped onto a gateway error (invariant 5).
 */
export async function callUpstream(
  c: Context<AppEnv>,
  target: Target,
  path: string,
  body: unknown,
  opts: { timeoutMs?: number } = {},
): Promise<Response> {
  const secret = providerSecret(c.env, target.providerName, target.provider);
  const res = await sendUpstream({
    providerName: target.providerName,
    url: upstreamUrl(target.provider, path),
    headers: upstreamHeaders(c.req.raw.headers, target.provider, secret),
    body: JSON.stringify(body),
    timeoutMs: opts.timeoutMs ?? target.provider.timeoutMs,
    clientSignal: c.req.raw.signal,
  });
  if (!res.ok) throw await upstreamError(res, target.providerName, secret);
  return res;
}
