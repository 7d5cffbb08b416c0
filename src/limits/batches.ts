import { holdOf, overdueMs } from "../batching";
import { durationMs } from "../config/vars";
import { limiterFor, type Scope } from "./client";
import type { CallUsage, UsageBatch, UsageRow } from "./limiter";
import { addUsage, noUsage } from "./usage-counts";
import { dayOf, windowTokens } from "./windows";

/**
 * Usage in batches: an isolate adds up its finished calls per scope and sends them in one call to the
 * scope's limiter at most every flush interval (or once a batch holds `maxCalls` calls), instead of one
 * call per finished call and scope. A batch holding a concurrency slot is sent at once, since the slot
 * must be free for the next call.
 *
 * Nothing is lost: the flush runs in the request that opened the batch (its timer) or in the one that
 * filled it, and that request keeps itself alive (`waitUntil`) until the batch is durable, so the
 * runtime keeps the isolate, and with it every call in the batch, until then. The other calls of the
 * batch go without waiting: a wait on a promise another request settles is a cross-request continuation
 * for the runtime (about 0.1 ms of CPU per call in `npm run bench:ab`), and it would protect nothing more.
 * Should the request holding a batch die before its timer fires, the first call to find the batch
 * overdue sends it. A failed flush is retried with the same batch id (the limiter applies a batch once);
 * if every try fails, the batch is logged whole as an error, so the usage can be recovered from the logs.
 */

type Env = Pick<CloudflareBindings, "LIMITER">;

export type BatchIo = { env: Env; flushMs: number };

/** How a batch reaches its limiter; tests replace it to count or fail flushes. */
export type SendBatch = (env: Env, scope: Scope, batch: UsageBatch) => Promise<void>;

const toLimiter: SendBatch = (env, scope, batch) => limiterFor(env, scope).flush(batch);

/** When a batch reached its limiter (or was given up to the logs): null until then. Shared, not copied. */
export type Landing = { landedAt: number | null };

/**
 * A call in a batch: the batch's landing, `done` (settles once the batch is durable), and `hold`: the
 * promise this call's request must keep alive in `waitUntil` because it sends the batch, or null.
 */
export type Added = { landing: Landing; done: Promise<void>; hold: Promise<void> | null };

type Open = {
  id: string;
  openedAt: number;
  landing: Landing;
  rows: Map<string, UsageRow>;
  calls: number;
  tokens: number;
  cacheReadTokens: number;
  costUsd: number;
  releases: string[];
  sending: boolean;
  done: Promise<void>;
  resolve: () => void;
};

export const DEFAULT_FLUSH_MS = 1000;
const RETRY_DELAYS_MS = [50, 250, 1000];

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class UsageBatches {
  private readonly open = new Map<string, Open>();
  private readonly send: SendBatch;
  private readonly maxCalls: number;

  constructor(opts: { send?: SendBatch; maxCalls?: number } = {}) {
    this.send = opts.send ?? toLimiter;
    this.maxCalls = opts.maxCalls ?? 200;
  }

  /**
   * Adds one finished call to the scope's open batch (opening one, with its timer, if there is none).
   * `release` is the call's concurrency slot in this scope, if it holds one. Returns the batch's landing
   * and what the call must hold (`Added`): the batch, if this call sends it.
   */
  add(scope: Scope, call: CallUsage, release: string | null, io: BatchIo, now = Date.now()): Added {
    const key = `${scope.kind}:${scope.name}`;
    const holds: Promise<void>[] = [];
    let batch = this.open.get(key);
    if (batch && now - batch.openedAt > overdueMs(io.flushMs)) {
      holds.push(this.flush(key, scope, batch, io));
      batch = undefined;
    }
    if (!batch) {
      batch = opened(now);
      this.open.set(key, batch);
      const timed = batch;
      void delay(Math.max(0, io.flushMs)).then(() => this.flush(key, scope, timed, io));
      holds.push(batch.done);
    }
    const day = dayOf(now);
    const rowKey = `${day}\u0000${call.provider}\u0000${call.model}`;
    let row = batch.rows.get(rowKey);
    if (!row) {
      row = { day, provider: call.provider, model: call.model, ...noUsage() };
      batch.rows.set(rowKey, row);
    }
    addUsage(row, { ...call, requests: 1, errors: call.error ? 1 : 0 });
    batch.calls += 1;
    const tokens = windowTokens(call);
    batch.tokens += tokens.tokens;
    batch.cacheReadTokens += tokens.cacheReadTokens;
    batch.costUsd += call.costUsd;
    if (release) batch.releases.push(release);
    if (release || batch.calls >= this.maxCalls) {
      void this.flush(key, scope, batch, io);
      if (!holds.includes(batch.done)) holds.push(batch.done);
    }
    const hold = holdOf(holds);
    return { landing: batch.landing, done: batch.done, hold };
  }

  private async flush(key: string, scope: Scope, batch: Open, io: BatchIo): Promise<void> {
    if (batch.sending) return;
    batch.sending = true;
    if (this.open.get(key) === batch) this.open.delete(key);
    const sent: UsageBatch = {
      id: batch.id,
      rows: [...batch.rows.values()],
      tokens: batch.tokens,
      cacheReadTokens: batch.cacheReadTokens,
      costUsd: batch.costUsd,
      releases: batch.releases,
    };
    let lastError: unknown = null;
    for (let attempt = 0; attempt <= RETRY_DELAYS_MS.length; attempt++) {
      try {
        await this.send(io.env, scope, sent);
        batch.landing.landedAt = Date.now();
        batch.resolve();
        return;
      } catch (e) {
        lastError = e;
        const wait = RETRY_DELAYS_MS[attempt];
        if (wait !== undefined) await delay(wait);
      }
    }
    console.error(
      JSON.stringify({ msg: "usage flush failed", scope: key, error: String(lastError), batch: sent }),
    );
    batch.landing.landedAt = Date.now();
    batch.resolve();
  }
}

function opened(now: number): Open {
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  return {
    id: crypto.randomUUID(),
    openedAt: now,
    landing: { landedAt: null },
    rows: new Map(),
    calls: 0,
    tokens: 0,
    cacheReadTokens: 0,
    costUsd: 0,
    releases: [],
    sending: false,
    done,
    resolve,
  };
}

/** The flush interval from the `USAGE_FLUSH_MS` var (ms); the default when unset or not a number. */
export function flushMsOf(env: { USAGE_FLUSH_MS?: string }): number {
  return durationMs(env.USAGE_FLUSH_MS, DEFAULT_FLUSH_MS);
}

/** The isolate's batches, shared by every request it serves. */
export const batches = new UsageBatches();
