import { describe, expect, it } from "vitest";
import { chat, emulatorRequests, setup, userMessage } from "./helpers";

/**
 * Client headers that describe the client's own connection or body never go upstream: the gateway sends a
 * body of its own, whole. `Expect: 100-continue` forwarded made the upstream answer `100 Continue`, and
 * the call hung for the upstream's keep-alive time before failing with the upstream's raw bytes.
 */
describe("framing and hop-by-hop headers from the client", () => {
  it("Expect, TE, Content-Encoding, Keep-Alive and the like are not forwarded, and the call answers at once", async () => {
    const { key, model } = await setup();
    const marker = `m-${crypto.randomUUID()}`;
    const res = await chat(
      key,
      { model, messages: userMessage(marker) },
      {
        expect: "100-continue",
        te: "trailers",
        "keep-alive": "timeout=5",
        upgrade: "h2c",
        "x-kept": "yes",
      },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(marker);
    const seen = (await emulatorRequests()).find((r) => JSON.stringify(r.body).includes(marker));
    expect(seen).toBeDefined();
    for (const name of ["expect", "te", "keep-alive", "upgrade", "content-encoding", "transfer-encoding"]) {
      expect(seen?.headers[name]).toBeUndefined();
    }
    expect(seen?.headers["x-kept"]).toBe("yes");
  });
});
