import { describe, expect, it } from "vitest";
import {
  encodeRequestTags,
  gatewayTags,
  mergeRequestTags,
  parseRequestTags,
} from "../../src/upstream/request-tags";

const who = { keyName: "laptop", keyId: "key_0123456789abcdef", team: "ml", route: null };

describe("request tags", () => {
  it("name the key, its id and team, and the route when one served", () => {
    expect(gatewayTags(who)).toEqual({ key: "laptop", key_id: "key_0123456789abcdef", team: "ml" });
    expect(gatewayTags({ ...who, team: null, route: "claude" })).toEqual({
      key: "laptop",
      key_id: "key_0123456789abcdef",
      route: "claude",
    });
  });

  it("keep the client's own tags and let the gateway's win on a clash", () => {
    const client = parseRequestTags('{"project":"atlas","team":"spoofed","env":"prod"}');
    expect(mergeRequestTags(client, gatewayTags(who))).toEqual({
      project: "atlas",
      env: "prod",
      key: "laptop",
      key_id: "key_0123456789abcdef",
      team: "ml",
    });
  });

  it("never pass on a client value under a gateway name, even where the gateway has none", () => {
    const client = parseRequestTags('{"team":"spoofed","route":"fake","mine":"x"}');
    expect(mergeRequestTags(client, gatewayTags({ ...who, team: null }))).toEqual({
      mine: "x",
      key: "laptop",
      key_id: "key_0123456789abcdef",
    });
  });

  it.each([
    ["not JSON", "team=ml"],
    ["an array", '["a"]'],
    ["a string", '"a"'],
    ["null", "null"],
    ["a number value", '{"a":1}'],
    ["a nested value", '{"a":{"b":"c"}}'],
    ["too long", JSON.stringify({ a: "x".repeat(5000) })],
    [
      "too many tags",
      JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, "v"]))),
    ],
  ])("drop a malformed client value (%s) as if none was sent", (_what, value) => {
    expect(parseRequestTags(value)).toBeNull();
    expect(mergeRequestTags(parseRequestTags(value), gatewayTags(who))).toEqual(gatewayTags(who));
  });

  it("accept an empty object and no header at all", () => {
    expect(parseRequestTags("{}")).toEqual({});
    expect(parseRequestTags(null)).toBeNull();
    expect(parseRequestTags(undefined)).toBeNull();
  });

  it("encode as ASCII-only JSON that parses back to the same tags", () => {
    const tags = { key: "Zoë's laptop ✓", team: "ml", note: 'quote " and \\ backslash' };
    const header = encodeRequestTags(tags);
    expect(header).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(header)).toEqual(tags);
    expect(() => new Headers({ "databricks-ai-gateway-request-tags": header })).not.toThrow();
  });
});
