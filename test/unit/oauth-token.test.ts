import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors";
import { REFRESH_MARGIN_MS, accessToken, defaultTokenUrl, type OAuthClient } from "../../src/upstream/oauth";

const SECRET = "sp-secret-value";
let clients = 0;
/** A client unique to the test: the token cache is module state shared by the whole file. */
function client(): OAuthClient {
  clients += 1;
  return {
    providerName: `p${clients}`,
    tokenUrl: "https://ws.example.com/oidc/v1/token",
    clientId: "sp-id",
    clientSecret: SECRET,
  };
}

type Answer = { status: number; body: unknown };

/** A token endpoint that answers from a script, records what it was asked, and can be held back. */
function tokenEndpoint(answers: (n: number) => Answer) {
  const requests: Array<{ url: string; init: RequestInit }> = [];
  let release: () => void = () => {};
  let held: Promise<void> = Promise.resolve();
  const fetcher = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(url), init: init ?? {} });
    const n = requests.length;
    await held;
    const { status, body } = answers(n);
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
  return {
    fetcher,
    requests,
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

const token = (n: number, expiresIn = 3600): Answer => ({
  status: 200,
  body: { access_token: `tok-${n}`, token_type: "Bearer", expires_in: expiresIn, scope: "all-apis" },
});

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const noWaitUntil = () => {};

describe("OAuth access tokens", () => {
  it("asks the token endpoint as Databricks documents: client credentials, all-apis, HTTP Basic", async () => {
    const endpoint = tokenEndpoint(token);
    const c = client();
    expect(await accessToken(c, { waitUntil: noWaitUntil, fetcher: endpoint.fetcher })).toBe("tok-1");
    const [req] = endpoint.requests;
    expect(req?.url).toBe(c.tokenUrl);
    expect(req?.init.method).toBe("POST");
    const headers = new Headers(req?.init.headers);
    expect(headers.get("authorization")).toBe(`Basic ${btoa(`sp-id:${SECRET}`)}`);
    expect(headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(String(req?.init.body)))).toEqual({
      grant_type: "client_credentials",
      scope: "all-apis",
    });
  });

  it("defaults to the origin of the provider's baseUrl + /oidc/v1/token", () => {
    expect(defaultTokenUrl("https://ws.cloud.databricks.com/serving-endpoints")).toBe(
      "https://ws.cloud.databricks.com/oidc/v1/token",
    );
    expect(defaultTokenUrl("http://127.0.0.1:8788/mlflow")).toBe("http://127.0.0.1:8788/oidc/v1/token");
  });

  it("a burst of concurrent calls shares one token request, kept alive by the first call's waitUntil", async () => {
    const endpoint = tokenEndpoint(token);
    endpoint.hold();
    const c = client();
    const kept: Promise<unknown>[] = [];
    const burst = Array.from({ length: 50 }, () =>
      accessToken(c, { waitUntil: (p) => kept.push(p), fetcher: endpoint.fetcher }),
    );
    endpoint.release();
    expect(new Set(await Promise.all(burst))).toEqual(new Set(["tok-1"]));
    expect(endpoint.requests).toHaveLength(1);
    expect(kept).toHaveLength(1);
  });

  it("reuses a token until a minute before it expires, then refreshes it", async () => {
    const endpoint = tokenEndpoint(token);
    const c = client();
    const t = clock();
    const opts = { waitUntil: noWaitUntil, fetcher: endpoint.fetcher, now: t.now };
    expect(await accessToken(c, opts)).toBe("tok-1");
    t.advance(3600_000 - REFRESH_MARGIN_MS - 1);
    expect(await accessToken(c, opts)).toBe("tok-1");
    t.advance(1);
    expect(await accessToken(c, opts)).toBe("tok-2");
    expect(endpoint.requests).toHaveLength(2);
  });

  it("never reuses a token that lives less than the margin", async () => {
    const endpoint = tokenEndpoint((n) => token(n, 30));
    const c = client();
    const opts = { waitUntil: noWaitUntil, fetcher: endpoint.fetcher };
    expect(await accessToken(c, opts)).toBe("tok-1");
    expect(await accessToken(c, opts)).toBe("tok-2");
  });

  it("drops a token the upstream refused, unless another call already replaced it", async () => {
    const endpoint = tokenEndpoint(token);
    const c = client();
    const opts = { waitUntil: noWaitUntil, fetcher: endpoint.fetcher };
    expect(await accessToken(c, opts)).toBe("tok-1");
    expect(await accessToken(c, { ...opts, rejected: "tok-1" })).toBe("tok-2");
    // A second call that was also refused tok-1 finds tok-2 already there.
    expect(await accessToken(c, { ...opts, rejected: "tok-1" })).toBe("tok-2");
    expect(endpoint.requests).toHaveLength(2);
  });

  it("keeps tokens apart per provider and client", async () => {
    const endpoint = tokenEndpoint(token);
    const opts = { waitUntil: noWaitUntil, fetcher: endpoint.fetcher };
    const a = client();
    expect(await accessToken(a, opts)).toBe("tok-1");
    expect(await accessToken({ ...a, clientId: "other-sp" }, opts)).toBe("tok-2");
    expect(await accessToken(client(), opts)).toBe("tok-3");
    expect(await accessToken(a, opts)).toBe("tok-1");
  });

  it("a refused client is a 502 naming the provider; every waiting call gets it; nothing is cached", async () => {
    const endpoint = tokenEndpoint(() => ({
      status: 401,
      body: { error: "invalid_client", error_description: `Client authentication failed for ${SECRET}` },
    }));
    endpoint.hold();
    const c = client();
    const opts = { waitUntil: noWaitUntil, fetcher: endpoint.fetcher };
    const calls = [accessToken(c, opts), accessToken(c, opts)];
    endpoint.release();
    for (const call of calls) {
      const err = await call.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      const e = err as GatewayError;
      expect(e.status).toBe(502);
      expect(e.code).toBe("upstream_auth");
      expect(e.retryClass).toBe("auth");
      expect(e.message).toContain(`Provider '${c.providerName}'`);
      expect(`${e.message} ${e.internal}`).not.toContain(SECRET);
    }
    expect(endpoint.requests).toHaveLength(1);
    await expect(accessToken(c, opts)).rejects.toThrow(GatewayError);
    expect(endpoint.requests).toHaveLength(2);
  });

  it("an endpoint that fails or answers nonsense is a 502 that never shows the answer's token", async () => {
    const c = client();
    const cases: Array<[Answer, string]> = [
      [{ status: 503, body: "busy" }, "5xx"],
      [{ status: 200, body: "not json" }, "5xx"],
      [{ status: 200, body: { access_token: "tok-leak", token_type: "mac", expires_in: 60 } }, "5xx"],
      [{ status: 200, body: { access_token: "tok-leak" } }, "5xx"],
    ];
    for (const [answer, retryClass] of cases) {
      const endpoint = tokenEndpoint(() => answer);
      const err = (await accessToken(c, { waitUntil: noWaitUntil, fetcher: endpoint.fetcher }).catch(
        (e: unknown) => e,
      )) as GatewayError;
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.status).toBe(502);
      expect(err.retryClass).toBe(retryClass);
      expect(`${err.message} ${err.internal}`).not.toContain("tok-leak");
    }
  });

  it("an unreachable endpoint is a 502 the route may fall back from", async () => {
    const fetcher = (async () => {
      throw new TypeError("connect ECONNREFUSED");
    }) as typeof fetch;
    const err = (await accessToken(client(), { waitUntil: noWaitUntil, fetcher }).catch(
      (e: unknown) => e,
    )) as GatewayError;
    expect(err.status).toBe(502);
    expect(err.retryClass).toBe("connection");
    expect(err.message).toMatch(/unreachable/);
  });
});
