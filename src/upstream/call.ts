import type { Context } from "hono";
import type { Target } from "../config/resolve";
import type { AppEnv } from "../env";
import { upstreamError } from "./errors";
import { Redactor } from "./redactor";
import { providerSecret, upstreamHeaders, upstreamUrl } from "./request";
import { sendUpstream } from "./send";

export type UpstreamOptions = {
  timeoutMs?: number;
  /** A last change to the headers sent (a provider's passthrough shaping removes betas here). */
  editHeaders?: ((headers: Headers) => void) | undefined;
  /** Error statuses returned as responses for the caller to handle, instead of thrown. */
  acceptStatuses?: readonly number[] | undefined;
};

/**
 * One upstream call, from a resolved target and a ready body to a successful response: the provider's
 * secret injected, the client's credentials stripped, the first-byte timeout applied, and every upstream
 * failure mapped onto a gateway error (a 401 from upstream becomes a 502 naming the provider, a timeout a
 * 504, and so on), unless the caller said it handles that status itself. Whatever relays the response
 * takes the secret out of it with the redactor this sets on the context.
 */
export async function callUpstream(
  c: Context<AppEnv>,
  target: Target,
  path: string,
  body: unknown,
  opts: UpstreamOptions = {},
): Promise<Response> {
  // Nothing goes upstream unless the key, its team and the provider all admit the call.
  const meter = c.get("meter");
  await meter.admitProvider(target.providerName, target.provider, target.model);
  for (const [name, value] of Object.entries(meter.headers())) c.header(name, value);
  const secret = providerSecret(c.env, target.providerName, target.provider);
  const redactor = Redactor.for(secret);
  c.set("redactor", redactor);
  meter.sending();
  const headers = upstreamHeaders(c.req.raw.headers, target.provider, secret);
  opts.editHeaders?.(headers);
  const res = await sendUpstream({
    providerName: target.providerName,
    url: upstreamUrl(target.provider, path),
    headers,
    body: JSON.stringify(body),
    timeoutMs: opts.timeoutMs ?? target.provider.timeoutMs,
    clientSignal: c.req.raw.signal,
    redactor,
  });
  if (!res.ok && !opts.acceptStatuses?.includes(res.status)) {
    throw await upstreamError(res, target.providerName, redactor);
  }
  return res;
}
