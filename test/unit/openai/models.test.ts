import { describe, expect, it } from "vitest";
import {
  anthropicModelList,
  openAiModelList,
  providerModels,
  walkUnityCatalog,
} from "../../../src/formats/openai/models";

const model = (name: string, created_at = 1_700_000_000_000) => ({
  name,
  full_name: `main.default.${name}`,
  catalog_name: "main",
  created_at,
});

/** A fetcher over fixed pages keyed by token ("" = the first page); records the tokens it was asked for. */
function pages(byToken: Record<string, unknown>) {
  const asked: (string | null)[] = [];
  const fetchPage = async (token: string | null) => {
    asked.push(token);
    const page = byToken[token ?? ""];
    if (page instanceof Error) throw page;
    if (page === undefined) throw new Error(`no page for ${token}`);
    return page;
  };
  return { fetchPage, asked };
}

describe("walkUnityCatalog", () => {
  it("follows next_page_token through empty pages until it is absent", async () => {
    const { fetchPage, asked } = pages({
      "": { registered_models: [model("a"), model("b")], next_page_token: "t1" },
      t1: { registered_models: [], next_page_token: "t2" },
      t2: { next_page_token: "t3" },
      t3: { registered_models: [model("c")] },
    });
    const listing = await walkUnityCatalog(fetchPage);
    expect(listing).toEqual({
      ok: true,
      models: [
        { name: "a", fullName: "main.default.a", createdAt: 1_700_000_000_000 },
        { name: "b", fullName: "main.default.b", createdAt: 1_700_000_000_000 },
        { name: "c", fullName: "main.default.c", createdAt: 1_700_000_000_000 },
      ],
    });
    expect(asked).toEqual([null, "t1", "t2", "t3"]);
  });

  it("treats an empty next_page_token as the end", async () => {
    const { fetchPage } = pages({ "": { registered_models: [model("a")], next_page_token: "" } });
    expect(await walkUnityCatalog(fetchPage)).toMatchObject({ ok: true, models: [{ name: "a" }] });
  });

  it("fails, keeping what it read, when a page fetch fails", async () => {
    const { fetchPage } = pages({
      "": { registered_models: [model("a")], next_page_token: "t1" },
      t1: new Error("upstream answered 500"),
    });
    expect(await walkUnityCatalog(fetchPage)).toEqual({
      ok: false,
      reason: "upstream answered 500",
      models: [expect.objectContaining({ name: "a" })],
    });
  });

  it("fails on a page that is not a model list", async () => {
    for (const bad of [null, "text", { registered_models: "x" }, { registered_models: [{ name: 1 }] }]) {
      const { fetchPage } = pages({ "": bad });
      expect(await walkUnityCatalog(fetchPage)).toMatchObject({ ok: false });
    }
  });

  it("stops an upstream that pages forever at the page bound", async () => {
    let n = 0;
    const listing = await walkUnityCatalog(async () => ({
      registered_models: [model(`m${n}`)],
      next_page_token: `t${++n}`,
    }));
    expect(listing).toMatchObject({ ok: false, reason: "more than 50 pages" });
    expect(n).toBe(50);
    expect(listing.models).toHaveLength(50);
  });

  it("stops at a repeated page token instead of looping", async () => {
    const { fetchPage, asked } = pages({
      "": { registered_models: [], next_page_token: "t1" },
      t1: { registered_models: [model("a")], next_page_token: "t1" },
    });
    expect(await walkUnityCatalog(fetchPage)).toMatchObject({ ok: false, reason: /repeats/ });
    expect(asked).toEqual([null, "t1"]);
  });
});

describe("model list shapes", () => {
  const listed = providerModels(
    "dbx",
    ["static", "a"],
    [
      { name: "a", fullName: "system.ai.a", createdAt: 1_736_899_200_000 },
      { name: "b", fullName: "system.ai.b", createdAt: null },
      { name: "b", fullName: "other.schema.b", createdAt: 5000 },
    ],
  );

  it("ids are <provider>/<name>, static models first, duplicates once", () => {
    expect(listed).toEqual([
      { id: "dbx/static", created: 0, ownedBy: "dbx" },
      { id: "dbx/a", created: 0, ownedBy: "dbx" },
      { id: "dbx/b", created: 0, ownedBy: "dbx" },
    ]);
    expect(providerModels("p", [], [{ name: "x", fullName: null, createdAt: 1_736_899_200_999 }])).toEqual([
      { id: "p/x", created: 1_736_899_200, ownedBy: "p" },
    ]);
  });

  it("OpenAI: {object: list, data: [{id, object: model, created, owned_by}]}", () => {
    expect(openAiModelList(listed.slice(0, 1))).toEqual({
      object: "list",
      data: [{ id: "dbx/static", object: "model", created: 0, owned_by: "dbx" }],
    });
  });

  it("Anthropic: {data: [{type: model, id, display_name, created_at}], has_more, first_id, last_id}", () => {
    expect(anthropicModelList([{ id: "p/x", created: 1_736_899_200, ownedBy: "p" }])).toEqual({
      data: [{ type: "model", id: "p/x", display_name: "p/x", created_at: "2025-01-15T00:00:00.000Z" }],
      has_more: false,
      first_id: "p/x",
      last_id: "p/x",
    });
    expect(anthropicModelList([])).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });
});
