import type { Context } from "hono";
import type { Target } from "../config/resolve";
import type { AppEnv } from "../env";
import { providerCredential, type Credential } from "./credentials";
import { upstreamError } from "./errors";
import { Redactor } from "./redactor";
import { upstreamHeaders, upstreamUrl } from "./request";
import {
  REQUEST_TAGS_HEADER,
  encodeRequestTags,
  gatewayTags,
  mergeRequestTags,
  parseRequestTags,
  type RequestTags,
} from "./request-tags";
import { sendUpstream } from "./send";

export type UpstreamOptions = {
  timeoutMs?: number;
  /** A last change to the headers sent (a provider's passthrough shaping removes betas here). */
  editHeaders?: ((headers: Headers) => void) | undefined;
  /** Error statuses returned as responses for the caller to handle, instead of thrown. */
  acceptStatuses?: readonly number[] | undefined;
};

/** The tags for Databricks' usage tables: the client's own, with the gateway's (who called) on top. */
function requestTagsFor(c: Context<AppEnv>): RequestTags {
  const key = c.get("key");
  const own = gatewayTags({
    keyName: key.name,
    keyId: key.id,
    team: key.team ?? null,
    route: c.get("call").route,
  });
  return mergeRequestTags(parseRequestTags(c.req.header(REQUEST_TAGS_HEADER)), own);
}

/**
 * One upstream call, from a resolved target and a ready body to a successful response: the provider's
 * credential injected, the client's credentials stripped, the first-byte timeout applied, and every
 * upstream failure mapped onto a gateway error (a 401 from upstream becomes a 502 naming the provider, a
 * timeout a 504, and so on), unless the caller said it handles that status itself. An OAuth token the
 * upstream refuses (401) is renewed once and the request sent again. Whatever relays the response takes
 * the credential's secrets out of it with the redactor this sets on the context.
 */
export async function callUpstream(
  c: Context<AppEnv>,
  target: Target,
  path: string,
  body: unknown,
  opts: UpstreamOptions = {},
): Promise<Response> {
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  let credential = await providerCredential(c.env, target.providerName, target.provider, waitUntil);

  const trace = c.get("call");
  const tags = target.provider.requestTags ? requestTagsFor(c) : null;
  const payload = JSON.stringify(body);
  // The provider credentials used so far (a renewed token's predecessor included): taken out of whatever
  // comes back. (The call's trace also holds the virtual key, for the log; the client may see its own.)
  const credentials: string[] = [];
  const send = (cred: Credential) => {
    const headers = upstreamHeaders(c.req.raw.headers, target.provider, cred.authorization);
    if (tags) headers.set(REQUEST_TAGS_HEADER, encodeRequestTags(tags));
    opts.editHeaders?.(headers);
    trace.secrets.push(...cred.secrets);
    credentials.push(...cred.secrets);
    const redactor = Redactor.for(credentials);
    c.set("redactor", redactor);
    return sendUpstream({
      providerName: target.providerName,
      url: upstreamUrl(target.provider, path),
      headers,
      body: payload,
      timeoutMs: opts.timeoutMs ?? target.provider.timeoutMs,
      clientSignal: c.req.raw.signal,
      redactor,
    });
  };

  trace.sentUpstream = true;
  trace.provider = target.providerName;
  trace.model = target.model;
  trace.price = target.provider.pricing?.[target.model];
  trace.requestTags = tags ?? parseRequestTags(c.req.header(REQUEST_TAGS_HEADER));
  let res = await send(credential);
  if (res.status === 401 && credential.renew) {
    await res.body?.cancel().catch(() => {});
    credential = await credential.renew();
    res = await send(credential);
  }
  trace.firstByteAt = Date.now();
  if (!res.ok && !opts.acceptStatuses?.includes(res.status)) {
    throw await upstreamError(res, target.providerName, c.get("redactor"));
  }
  return res;
}
