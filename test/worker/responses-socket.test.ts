import { describe, expect, it } from "vitest";
import { checkResponsesStream } from "../unit/responses/helpers";
import { anthropicFormat, emulatorRequests, setup, uniqueName } from "./helpers";
import { asSse, isTerminal, socketOf, upgrade } from "./socket-helpers";

describe("Responses over WebSocket", () => {
  it("a streamed turn", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const res = await upgrade(key);
    expect(res.status).toBe(101);
    const s = socketOf(res);
    const marker = uniqueName("ws");
    s.send({ type: "response.create", model: `${provider}/m`, input: marker });
    const msgs = await s.until(isTerminal);
    const checked = checkResponsesStream(asSse(msgs));
    expect(checked.violations).toEqual([]);
    expect(Object.values(checked.text).join("")).toBe(`Hello from the emulator. You said: ${marker}`);
    const seen = (await emulatorRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
    expect(seen).toHaveLength(1);
    s.ws.close(1000);
  });
});
