import { describe, expect, it } from "vitest";
import {
  ConfigDocument,
  documentIssues,
  exportDocument,
  planChanges,
  type Snapshot,
} from "../../src/config/document";
import type { KeyRecord, Provider } from "../../src/config/schemas";

/** The config document's pure parts: planning, reference checks over the resulting state, export. */

const provider: Provider = {
  format: "openai",
  baseUrl: "https://ws.example.com/mlflow",
  auth: { type: "none" },
};
const key = (name: string, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id: `key_${name.padEnd(16, "0").slice(0, 16)}`,
  name,
  preview: "bl-abcd…",
  createdAt: "2026-01-01T00:00:00.000Z",
  disabled: false,
  ...extra,
});

function snapshot(): Snapshot {
  return {
    providers: new Map([["dbx", provider]]),
    teams: new Map([["ml", {}]]),
    routes: new Map([["claude", { destinations: [{ provider: "dbx", model: "m" }] }]]),
    keys: new Map([["ci", [key("ci", { team: "ml", providers: ["dbx"] })]]]),
  };
}

describe("config document", () => {
  it("exports a document that plans no change, pruned or not", () => {
    const doc = ConfigDocument.parse(exportDocument(snapshot()));
    expect(planChanges(snapshot(), doc, false)).toEqual([]);
    expect(planChanges(snapshot(), doc, true)).toEqual([]);
    expect(documentIssues(snapshot(), doc, true)).toEqual([]);
  });

  it("plans creates, updates with their fields, and deletes only with prune in present sections", () => {
    const doc = ConfigDocument.parse({
      providers: { dbx: { ...provider, timeoutMs: 1000 }, other: provider },
      keys: { ci: { team: "ml", providers: ["dbx"], disabled: false } },
    });
    expect(planChanges(snapshot(), doc, false)).toEqual([
      { kind: "provider", name: "dbx", action: "update", fields: ["timeoutMs"] },
      { kind: "provider", name: "other", action: "create" },
    ]);
    const pruning = ConfigDocument.parse({ providers: { dbx: provider }, routes: {} });
    expect(planChanges(snapshot(), pruning, true)).toEqual([
      { kind: "route", name: "claude", action: "delete" },
    ]);
  });

  it("finds what a prune would leave dangling, but not problems items already had", () => {
    const broken = snapshot();
    broken.keys.set("legacy", [key("legacy", { team: "gone" })]);
    const doc = ConfigDocument.parse({ providers: {} });
    expect(documentIssues(broken, doc, true)).toEqual([
      { path: "routes.claude.destinations[0].provider", message: "no provider named 'dbx'" },
      { path: "keys.ci.providers[0]", message: "no provider named 'dbx'" },
    ]);
    expect(documentIssues(broken, doc, false)).toEqual([]);
  });
});
