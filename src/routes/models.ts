import { Hono, type Context } from "hono";
import { cacheGet, cacheSet } from "../config/cache";
import { modelAllowed, routeAllowed, splitModel } from "../config/resolve";
import type { KeyRecord, Provider, Route } from "../config/schemas";
import { providers, routes } from "../config/store";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import {
  anthropicModel,
  anthropicModelList,
  openAiModel,
  openAiModelList,
  providerModels,
  walkUnityCatalog,
  type ListedModel,
  type UcListing,
} from "../formats/openai/models";
import { Redactor } from "../upstream/redactor";
import { fetchFailure } from "../upstream/send";
import { providerCredential } from "../upstream/credentials";

/**
 * `GET /v1/models` (and `/v1/models/<id>`): the models this key may use. OpenAI's list shape, or
 * Anthropic's when the client sends `anthropic-version` (the Anthropic SDK always does) or calls under
 * `/anthropic/v1`. Listing is not a request type: it reaches no model and counts no tokens.
 */
export const models = new Hono<AppEnv>();

/** A provider's Unity Catalog listing is reused this long inside one isolate. */
const UC_TTL_MS = 60_000;
/** A failed listing is remembered briefly, so a broken catalog does not slow every listing down. */
const UC_FAILURE_TTL_MS = 10_000;
/** The whole walk over a catalog's pages must finish within this (or the provider's shorter timeout). */
const UC_DEADLINE_MS = 10_000;

const WARNING_HEADER = "x-bricklane-warning";

type ProviderEntry = { name: string; provider: Provider };

/**
 * The providers that can contribute to this key's list: the key's `providers` when it names some, else
 * every configured provider; with a `models` allowlist, only the providers its patterns name.
 */
async function candidateProviders(env: CloudflareBindings, key: KeyRecord): Promise<ProviderEntry[]> {
  // Entries without a slash name routes, not providers.
  const named = key.models
    ? new Set(key.models.filter((p) => p.includes("/")).map((p) => p.slice(0, p.indexOf("/"))))
    : null;
  const wanted = (name: string) =>
    (!key.providers || key.providers.includes(name)) && (!named || named.has(name));
  if (key.providers) {
    const found = await Promise.all(
      key.providers.filter(wanted).map(async (name) => ({ name, provider: await providers.get(env, name) })),
    );
    return found.filter((p): p is ProviderEntry => p.provider !== null);
  }
  return (await providers.list(env)).filter((p) => wanted(p.name));
}

/** Whether some destination or fallback of the route is on a provider the key may use. */
function routeUsable(key: KeyRecord, route: Route): boolean {
  const providerNames = [...route.destinations, ...(route.fallbacks ?? [])].map((d) => d.provider);
  return !key.providers || providerNames.some((name) => key.providers?.includes(name));
}

/** Named routes (model aliases) the key may use, by name and through at least one destination; first. */
async function routeModels(env: CloudflareBindings, key: KeyRecord): Promise<ListedModel[]> {
  const all = await routes.list(env);
  return all
    .filter(({ name, route }) => routeAllowed(key, name) && routeUsable(key, route))
    .map(({ name }) => ({ id: name, created: 0, ownedBy: "bricklane-route" }));
}

/**
 * A model asked for by id that no list names, on a provider that keeps no list at all (neither `models`
 * nor `listModelsUrl`): it is whatever the upstream serves, so any model the key may use is answered.
 */
async function unlistedModel(
  env: CloudflareBindings,
  key: KeyRecord,
  id: string,
): Promise<ListedModel | null> {
  const split = splitModel(id);
  if (!split || !modelAllowed(key, split.providerName, split.model)) return null;
  const provider = await providers.get(env, split.providerName);
  if (!provider || provider.models || provider.listModelsUrl) return null;
  return { id, created: 0, ownedBy: split.providerName };
}

/** One page of the provider's Unity Catalog listing, authenticated with the provider's own credential. */
async function fetchUcPage(
  listModelsUrl: string,
  provider: Provider,
  authorization: string | null,
  redactor: Redactor,
  pageToken: string | null,
  signal: AbortSignal,
): Promise<unknown> {
  const url = new URL(listModelsUrl);
  if (pageToken) url.searchParams.set("page_token", pageToken);
  // The provider's static headers go on everything sent on its behalf; the client's never do.
  const headers = new Headers(provider.headers);
  headers.set("accept", "application/json");
  if (authorization !== null) headers.set("authorization", authorization);
  // Not following redirects keeps the credential going to the configured URL only.
  const res = await fetch(url, { headers, signal, redirect: "manual" });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`upstream answered ${res.status}`);
  }
  // Model names reach every client that lists models: an echoed secret must not ride along.
  return JSON.parse(redactor.redact(await res.text()));
}

/** The provider's Unity Catalog models, from the isolate's cache or read page by page. */
export async function ucListing(
  env: CloudflareBindings,
  name: string,
  provider: Provider,
  clientSignal: AbortSignal,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<UcListing> {
  const listModelsUrl = provider.listModelsUrl;
  if (!listModelsUrl) return { ok: true, models: [] };
  const cacheKey = `models:uc:${name}:${listModelsUrl}`;
  const cached = cacheGet(cacheKey);
  if (cached.hit) return cached.value as UcListing;

  const controller = new AbortController();
  const deadline = Math.min(provider.timeoutMs ?? UC_DEADLINE_MS, UC_DEADLINE_MS);
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${deadline} ms`)), deadline);
  const onClientGone = () => controller.abort(new Error("client disconnected"));
  clientSignal.addEventListener("abort", onClientGone, { once: true });
  let listing: UcListing;
  let redactor = Redactor.for(null);
  try {
    const credential = await providerCredential(env, name, provider, waitUntil);
    redactor = Redactor.for(credential.secrets);
    const { authorization } = credential;
    listing = await walkUnityCatalog((token) =>
      fetchUcPage(listModelsUrl, provider, authorization, redactor, token, controller.signal),
    );
  } catch (e) {
    // The provider's secret is not set, or its OAuth token could not be had: reported like any other
    // failed listing.
    listing = { ok: false, reason: e instanceof Error ? e.message : String(e), models: [] };
  } finally {
    clearTimeout(timer);
    clientSignal.removeEventListener("abort", onClientGone);
  }
  // The reason is logged; a runtime's fetch error may quote what the upstream sent.
  if (!listing.ok) listing = { ...listing, reason: fetchFailure(listing.reason, redactor) };
  if (clientSignal.aborted) return listing;
  cacheSet(cacheKey, listing, listing.ok ? UC_TTL_MS : UC_FAILURE_TTL_MS);
  return listing;
}

/** Everything the key may use, plus the names of providers whose catalog could not be read. */
async function listFor(c: Context<AppEnv>): Promise<{ models: ListedModel[]; failed: string[] }> {
  const key = c.get("key");
  const entries = await candidateProviders(c.env, key);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const failed: string[] = [];
  const perProvider = await Promise.all(
    entries.map(async ({ name, provider }) => {
      const listing = await ucListing(c.env, name, provider, c.req.raw.signal, (p) =>
        c.executionCtx.waitUntil(p),
      );
      if (!listing.ok) {
        failed.push(name);
        console.warn(
          JSON.stringify({
            msg: "unity catalog listing failed",
            requestId: c.get("requestId"),
            provider: name,
            reason: listing.reason,
            partial: listing.models.length,
          }),
        );
      }
      return providerModels(name, provider.models ?? [], listing.models).filter((m) =>
        modelAllowed(key, name, m.id.slice(name.length + 1)),
      );
    }),
  );
  const out = [...(await routeModels(c.env, key))];
  const ids = new Set(out.map((m) => m.id));
  for (const m of perProvider.flat()) {
    if (ids.has(m.id)) continue;
    ids.add(m.id);
    out.push(m);
  }
  return { models: out, failed: failed.sort() };
}

/** Anthropic's shape for Anthropic clients; their errors become Anthropic-shaped too from here on. */
function wantsAnthropic(c: Context<AppEnv>): boolean {
  const anthropic = c.get("wireFormat") === "anthropic" || c.req.header("anthropic-version") !== undefined;
  if (anthropic) c.set("wireFormat", "anthropic");
  return anthropic;
}

function warningHeaders(failed: string[]): Record<string, string> {
  if (failed.length === 0) return {};
  const names = failed.map((n) => `'${n}'`).join(", ");
  return {
    [WARNING_HEADER]: `Unity Catalog listing failed for provider ${names}; those models are missing from the list`,
  };
}

models.get("/models", async (c) => {
  const anthropic = wantsAnthropic(c);
  const { models: listed, failed } = await listFor(c);
  const body = anthropic ? anthropicModelList(listed) : openAiModelList(listed);
  return c.json(body, 200, warningHeaders(failed));
});

/** One model by id; ids contain a slash (`<provider>/<model>`), so the rest of the path is the id. */
models.get("/models/:id{.+}", async (c) => {
  const anthropic = wantsAnthropic(c);
  const id = c.req.param("id");
  const { models: listed, failed } = await listFor(c);
  const found = listed.find((m) => m.id === id) ?? (await unlistedModel(c.env, c.get("key"), id));
  if (!found) {
    throw new GatewayError("not_found", 404, `The model '${id}' does not exist or this key may not use it.`, {
      param: "model",
      headers: warningHeaders(failed),
    });
  }
  return c.json(anthropic ? anthropicModel(found) : openAiModel(found), 200, warningHeaders(failed));
});
