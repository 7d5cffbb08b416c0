import { describe, expect, it } from "vitest";
import { continueRequest, eventOutcome, turnAfter } from "../../../src/formats/responses/continuation";

/** previous_response_id within one WebSocket connection, as Codex uses it. */

const dev = { type: "message", role: "developer", content: "be brief" };
const user = { type: "message", role: "user", content: "hi" };
const call = { type: "function_call", call_id: "c1", name: "exec_command", arguments: "{}" };
const output = { type: "function_call_output", call_id: "c1", output: "done" };

describe("continueRequest", () => {
  it("a first request: its fields without the message type, always streamed", () => {
    expect(
      continueRequest({ type: "response.create", model: "m", input: [user], stream: false }, null),
    ).toEqual({
      ok: true,
      value: { model: "m", input: [user], stream: true },
    });
  });

  it("continuing the last response: its input, its output items, then what is new", () => {
    const last = turnAfter({ input: [dev, user] }, "resp_1", [call]);
    expect(last).toEqual({ responseId: "resp_1", history: [dev, user, call] });
    const next = continueRequest(
      { type: "response.create", model: "m", previous_response_id: "resp_1", input: [output] },
      last,
    );
    expect(next).toEqual({ ok: true, value: { model: "m", stream: true, input: [dev, user, call, output] } });
  });

  it("a string input is a user message, before and after", () => {
    const last = turnAfter({ input: "first" }, "resp_1", []);
    const next = continueRequest(
      { type: "response.create", previous_response_id: "resp_1", input: "second" },
      last,
    );
    expect(next.ok && next.value.input).toEqual([
      { type: "message", role: "user", content: "first" },
      { type: "message", role: "user", content: "second" },
    ]);
  });

  it.each([
    ["no turn yet", null],
    ["another response", turnAfter({ input: [] }, "resp_other", [])],
  ])("refuses a previous_response_id it does not hold (%s)", (_n, last) => {
    const out = continueRequest({ type: "response.create", previous_response_id: "resp_1", input: [] }, last);
    expect(out).toMatchObject({ ok: false, param: "previous_response_id" });
    if (!out.ok) expect(out.message).toMatch(/not the last response on this connection/);
  });

  it("a non-string previous_response_id is refused too", () => {
    const last = turnAfter({ input: [] }, "resp_1", []);
    expect(continueRequest({ previous_response_id: 7, input: [] }, last)).toMatchObject({ ok: false });
  });
});

describe("eventOutcome", () => {
  it("reads output items and the completed response's id, nothing else", () => {
    expect(eventOutcome({ type: "response.output_item.done", item: call })).toEqual({
      kind: "item",
      item: call,
    });
    expect(eventOutcome({ type: "response.completed", response: { id: "resp_9" } })).toEqual({
      kind: "completed",
      responseId: "resp_9",
    });
    for (const other of [
      { type: "response.output_item.added", item: call },
      { type: "response.completed", response: {} },
      { type: "response.failed", response: { id: "resp_9" } },
      "text",
      null,
    ]) {
      expect(eventOutcome(other)).toEqual({ kind: "other" });
    }
  });
});
