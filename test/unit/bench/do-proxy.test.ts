import { afterEach, describe, expect, it, vi } from "vitest";
import { countingNamespace, type CallTally } from "../../../bench/do-proxy";

/** A stand-in namespace whose methods need `this` to be itself, as workerd's do. */
class FakeNamespace {
  readonly gets: string[] = [];
  constructor(private readonly prefix: string) {}
  idFromName(name: string) {
    return `${this.prefix}:${name}`;
  }
  get(id: string) {
    this.gets.push(id);
    return new FakeStub(id);
  }
}

class FakeStub {
  readonly calls: unknown[][] = [];
  constructor(readonly id: string) {}
  async admit(seed: unknown, now: number) {
    this.calls.push([seed, now]);
    return { ok: true, id: this.id };
  }
  async fail() {
    throw new Error("refused by the object");
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("countingNamespace", () => {
  it("passes ids, arguments and answers through and counts each stub call by binding and method", async () => {
    const real = new FakeNamespace("ns");
    const tally: CallTally = {};
    const ns = countingNamespace(real, { label: "LIMITER", tally, delayMs: () => 0 });
    const stub = ns.get(ns.idFromName("key:1"));
    expect(stub.id).toBe("ns:key:1");
    expect(await stub.admit({ limits: null }, 7)).toEqual({ ok: true, id: "ns:key:1" });
    await stub.admit(null, 8);
    await ns.get(ns.idFromName("key:2")).admit(null, 9);
    expect(real.gets).toEqual(["ns:key:1", "ns:key:2"]);
    expect(tally).toEqual({ "LIMITER.admit": 3 });
  });

  it("hands on the object's errors unchanged, and counts the call", async () => {
    const tally: CallTally = {};
    const ns = countingNamespace(new FakeNamespace("ns"), { label: "COOLDOWNS", tally, delayMs: () => 0 });
    await expect(ns.get("x").fail()).rejects.toThrow("refused by the object");
    expect(tally).toEqual({ "COOLDOWNS.fail": 1 });
  });

  it("holds each call back by the delay read at call time before it reaches the object", async () => {
    vi.useFakeTimers();
    let delay = 20;
    const real = new FakeNamespace("ns");
    const stub = real.get("x");
    const ns = countingNamespace({ get: () => stub }, { label: "LIMITER", tally: {}, delayMs: () => delay });
    const answer = ns.get().admit("seed", 1);
    await vi.advanceTimersByTimeAsync(19);
    expect(stub.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(stub.calls).toEqual([["seed", 1]]);
    await expect(answer).resolves.toEqual({ ok: true, id: "x" });

    delay = 0;
    await ns.get().admit("now", 2);
    expect(stub.calls).toEqual([
      ["seed", 1],
      ["now", 2],
    ]);
  });
});
