import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name } from "../../config/schemas";
import { providers } from "../../config/store";
import { parseJsonObject, parseWith } from "../../formats/validate";
import { providerCredential } from "../../upstream/credentials";
import { Redactor } from "../../upstream/redactor";
import { upstreamHeaders, upstreamUrl } from "../../upstream/request";
import { sendUpstream } from "../../upstream/send";
import { ucListing } from "../models";

/**
 * `POST /admin/providers/:name/test`: one small call to the provider (a short chat or messages request to
 * `model`), or, without a model, the models it lists; answers what came back. An operator's check, not a
 * client's call: it is not metered and books no usage.
 */
export const adminProviderTest = new Hono<AppEnv>();

export const ProviderTestRequest = z.strictObject({ model: z.string().min(1).max(256).optional() });

/** Enough of the upstream's answer to see what went wrong, never a whole stream of it. */
const MAX_BODY_SHOWN = 2000;
const PROMPT = "Reply with the word OK.";

/** The reply text, from either format's answer. */
function replyOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as {
    choices?: Array<{ message?: { content?: unknown } }>;
    content?: Array<{ text?: unknown }>;
  };
  const text = b.choices?.[0]?.message?.content ?? b.content?.find((p) => typeof p.text === "string")?.text;
  return typeof text === "string" ? text : undefined;
}

adminProviderTest.post("/:name/test", async (c) => {
  const name = parseWith(Name, c.req.param("name"), "provider name");
  const raw = await c.req.text();
  const { model } = parseWith(ProviderTestRequest, raw.trim() ? parseJsonObject(raw) : {});
  const provider = await providers.getFresh(c.env, name);
  if (!provider) throw new GatewayError("not_found", 404, `No provider named '${name}'.`);
  const started = Date.now();
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);

  if (!model) {
    const listing = await ucListing(c.env, name, provider, c.req.raw.signal, waitUntil);
    const models = [...(provider.models ?? []), ...listing.models.map((m) => m.name)];
    const ok = listing.ok && (models.length > 0 || provider.listModelsUrl !== undefined);
    return c.json({
      provider: name,
      ok,
      status: ok ? 200 : 0,
      latencyMs: Date.now() - started,
      models,
      ...(!listing.ok && { error: `Listing failed: ${listing.reason}` }),
      ...(listing.ok &&
        !ok && {
          error: "Name a model to try: this provider lists no models (no `models`, no `listModelsUrl`).",
        }),
    });
  }

  const messages = [{ role: "user", content: PROMPT }];
  const [path, body] =
    provider.format === "anthropic"
      ? ["/v1/messages", { model, max_tokens: 16, messages }]
      : ["/v1/chat/completions", { model, max_tokens: 16, messages }];
  try {
    // Inside the try: a service principal's token endpoint refusing it is a result of the test too.
    const credential = await providerCredential(c.env, name, provider, waitUntil);
    const redactor = Redactor.for(credential.secrets);
    const res = await sendUpstream({
      providerName: name,
      url: upstreamUrl(provider, path),
      headers: upstreamHeaders(new Headers(), provider, credential.authorization),
      body: JSON.stringify(body),
      timeoutMs: provider.timeoutMs,
      clientSignal: c.req.raw.signal,
      redactor,
    });
    const text = redactor.redact(await res.text());
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // shown as text
    }
    const reply = res.ok ? replyOf(parsed) : undefined;
    return c.json({
      provider: name,
      model,
      ok: res.ok,
      status: res.status,
      latencyMs: Date.now() - started,
      ...(reply !== undefined && { reply }),
      body: text.slice(0, MAX_BODY_SHOWN),
    });
  } catch (e) {
    // Timeouts and unreachable upstreams are results of the test, not failures of this request.
    if (!(e instanceof GatewayError)) throw e;
    return c.json({
      provider: name,
      model,
      ok: false,
      status: 0,
      latencyMs: Date.now() - started,
      error: e.message,
    });
  }
});
