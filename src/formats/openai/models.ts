import * as z from "zod";

/**
 * Model listing: reading Databricks Unity Catalog's paged registered-model list, and writing the
 * OpenAI (`GET /v1/models`) and Anthropic list shapes. Pure apart from the page fetcher callers pass in.
 */

/** One page of `GET /api/2.1/unity-catalog/models`. Loose: UC adds fields over time. */
export const UcModelsPage = z.looseObject({
  registered_models: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        full_name: z.string().nullish(),
        created_at: z.number().nullish(),
      }),
    )
    .nullish(),
  next_page_token: z.string().nullish(),
});

export type UcModel = { name: string; fullName: string | null; createdAt: number | null };

export type UcListing =
  | { ok: true; models: UcModel[] }
  /** `models` holds what was read before the failure (callers decide whether to show it). */
  | { ok: false; reason: string; models: UcModel[] };

/** Enough for any real catalog at UC's page sizes; a broken upstream that never stops paging is cut here. */
export const MAX_UC_PAGES = 50;

/**
 * Reads every page, following `next_page_token` until it is absent (a page may be empty and still carry
 * one, as Databricks does). Stops with a failure on a fetch error, a page that is not UC's shape, a token
 * seen before (a loop), or more than `maxPages` pages.
 */
export async function walkUnityCatalog(
  fetchPage: (pageToken: string | null) => Promise<unknown>,
  maxPages = MAX_UC_PAGES,
): Promise<UcListing> {
  const models: UcModel[] = [];
  const seen = new Set<string>();
  let token: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    let body: unknown;
    try {
      body = await fetchPage(token);
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e), models };
    }
    const parsed = UcModelsPage.safeParse(body);
    if (!parsed.success) return { ok: false, reason: "a page is not a Unity Catalog model list", models };
    for (const m of parsed.data.registered_models ?? []) {
      models.push({ name: m.name, fullName: m.full_name ?? null, createdAt: m.created_at ?? null });
    }
    const next = parsed.data.next_page_token;
    if (!next) return { ok: true, models };
    if (seen.has(next)) return { ok: false, reason: "next_page_token repeats", models };
    seen.add(next);
    token = next;
  }
  return { ok: false, reason: `more than ${maxPages} pages`, models };
}

/** A model as the gateway lists it, before it is written in a wire format. */
export type ListedModel = {
  /** `<provider>/<model>`, or a route name. */
  id: string;
  /** Unix seconds; 0 when unknown. */
  created: number;
  ownedBy: string;
};

export type OpenAiModel = { id: string; object: "model"; created: number; owned_by: string };

export const openAiModel = (m: ListedModel): OpenAiModel => ({
  id: m.id,
  object: "model",
  created: m.created,
  owned_by: m.ownedBy,
});

export function openAiModelList(models: readonly ListedModel[]): { object: "list"; data: OpenAiModel[] } {
  return { object: "list", data: models.map(openAiModel) };
}

export type AnthropicModel = { type: "model"; id: string; display_name: string; created_at: string };

export const anthropicModel = (m: ListedModel): AnthropicModel => ({
  type: "model",
  id: m.id,
  display_name: m.id,
  created_at: new Date(m.created * 1000).toISOString(),
});

/** Anthropic's `GET /v1/models` shape; everything comes in one page. */
export function anthropicModelList(models: readonly ListedModel[]): {
  data: AnthropicModel[];
  has_more: false;
  first_id: string | null;
  last_id: string | null;
} {
  return {
    data: models.map(anthropicModel),
    has_more: false,
    first_id: models[0]?.id ?? null,
    last_id: models.at(-1)?.id ?? null,
  };
}

/**
 * The ids one provider contributes: its static `models`, then its Unity Catalog models by `name` (the
 * name Databricks serving endpoints and the AI Gateway take as `model`), without duplicates, in order.
 */
export function providerModels(
  providerName: string,
  staticModels: readonly string[],
  ucModels: readonly UcModel[],
): ListedModel[] {
  const out: ListedModel[] = [];
  const ids = new Set<string>();
  const add = (model: string, created: number) => {
    const id = `${providerName}/${model}`;
    if (ids.has(id)) return;
    ids.add(id);
    out.push({ id, created, ownedBy: providerName });
  };
  for (const m of staticModels) add(m, 0);
  for (const m of ucModels) add(m.name, m.createdAt ? Math.floor(m.createdAt / 1000) : 0);
  return out;
}
