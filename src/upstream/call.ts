import type { Context } from "hono";
import type { Target } from "../config/resolve";
import type { AppEnv } from "../env";
import { upstreamError } from "./errors";
import { Redactor } from "./redactor";
import { providerSecret, upstreamHeaders, upstreamUrl } from "./request";
import { sendUpstream } from "./send";

/**
 * One upstream call, from a resolved target and a ready body to a successful response: the provider's
 * secret injected, the client's credentials stripped, the first-byte timeout applied, and every upstream
 * failure mapped onto a gateway error. Whatever relays the response takes the secret out of it with the
 * redactor this sets on the context.
 */
export async function callUpstream(
  c: Context<AppEnv>,
  target: Target,
  path: string,
  body: unknown,
  opts: { timeoutMs?: number } = {},
): Promise<Response> {
  // Nothing goes upstream unless the key, its team and the provider all admit the call.
  const meter = c.get("meter");
  await meter.admitProvider(target.providerName, target.provider, target.model);
  for (const [name, value] of Object.entries(meter.headers())) c.header(name, value);
  const secret = providerSecret(c.env, target.providerName, target.provider);
  const redactor = Redactor.for(secret);
  c.set("redactor", redactor);
  meter.sending();
  const res = await sendUpstream({
    providerName: target.providerName,
    url: upstreamUrl(target.provider, path),
    headers: upstreamHeaders(c.req.raw.headers, target.provider, secret),
    body: JSON.stringify(body),
    timeoutMs: opts.timeoutMs ?? target.provider.timeoutMs,
    clientSignal: c.req.raw.signal,
    redactor,
  });
  if (!res.ok) throw await upstreamError(res, target.providerName, redactor);
  return res;
}
