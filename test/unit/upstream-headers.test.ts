import { describe, expect, it } from "vitest";
import { forwardableHeaders } from "../../src/upstream/headers";
import { upstreamHeaders } from "../../src/upstream/request";
import type { Provider } from "../../src/config/schemas";

describe("upstream headers", () => {
  const client = new Headers({
    authorization: "Bearer bl-virtual",
    "x-api-key": "bl-virtual",
    cookie: "a=b",
    connection: "keep-alive",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    te: "trailers",
    expect: "100-continue",
    "content-length": "123",
    "content-encoding": "gzip",
    "cf-connecting-ip": "1.2.3.4",
    "x-forwarded-for": "1.2.3.4",
    host: "gateway.example.com",
    "anthropic-beta": "tools-2024",
    "user-agent": "openai-node",
    "x-custom": "kept",
  });

  it("drops credentials, cookies, hop-by-hop, framing, Expect and edge headers, keeps the rest", () => {
    const out = forwardableHeaders(client);
    expect([...out.keys()].sort()).toEqual(["anthropic-beta", "user-agent", "x-custom"]);
  });

  it("injects the provider's secret and static headers over anything the client sent", () => {
    const provider: Provider = {
      format: "openai",
      baseUrl: "https://x.example.com",
      auth: { type: "bearer", secret: "PAT" },
      headers: { "x-custom": "from-provider" },
    };
    const out = upstreamHeaders(client, provider, "Bearer dapi-secret");
    expect(out.get("authorization")).toBe("Bearer dapi-secret");
    expect(out.get("x-custom")).toBe("from-provider");
    expect(out.get("x-api-key")).toBeNull();
    expect(out.get("content-type")).toBe("application/json");
  });

  it("sends no authorization at all for auth type none", () => {
    const provider: Provider = { format: "openai", baseUrl: "https://x.example.com", auth: { type: "none" } };
    expect(upstreamHeaders(client, provider, null).get("authorization")).toBeNull();
  });
});
