import worker from "../src/index";
import { countingNamespace, type CallTally } from "./do-proxy";

export { Cooldowns, Limiter } from "../src/index";

/**
 * The gateway as the bench serves it: the real Worker and Durable Object classes, with `env.LIMITER` and
 * `env.COOLDOWNS` seen through counting proxies (./do-proxy.ts). Two bench-only paths, answered before
 * the app sees the request:
 * - `GET /__bench/stats`: `{ started, returned, completed, calls }`: gateway requests started, whose
 *   handler returned (a response or an error), and completed with all the work they left to waitUntil
 *   (usage recorded after the response), and the Durable Object calls the completed ones made. Counting
 *   only completed requests keeps calls per request exact at any time. A handler the runtime abandons
 *   (the client left before the response, and nothing held the request open) never returns.
 * - `POST /__bench/do-delay?ms=20`: from now on every Durable Object call waits that long first.
 * Never deployed: wrangler.toml's `main` is src/index.ts, and the worker tests use that.
 */
const completedCalls: CallTally = {};
let started = 0;
let returned = 0;
let completed = 0;
let delayMs = 0;
const delay = () => delayMs;

/** The request's context, with the work it leaves to waitUntil also kept in `work`. */
function tracked(ctx: ExecutionContext, work: Promise<unknown>[]): ExecutionContext {
  return {
    waitUntil(promise: Promise<unknown>) {
      work.push(promise);
      ctx.waitUntil(promise);
    },
    passThroughOnException: () => ctx.passThroughOnException(),
    get exports() {
      return ctx.exports;
    },
    get props() {
      return ctx.props;
    },
  };
}

async function serve(request: Request, env: CloudflareBindings, ctx: ExecutionContext): Promise<Response> {
  started += 1;
  const calls: CallTally = {};
  const work: Promise<unknown>[] = [];
  const counted: CloudflareBindings = {
    ...env,
    LIMITER: countingNamespace(env.LIMITER, { label: "LIMITER", tally: calls, delayMs: delay }),
    COOLDOWNS: countingNamespace(env.COOLDOWNS, { label: "COOLDOWNS", tally: calls, delayMs: delay }),
  };
  try {
    return await worker.fetch(request, counted, tracked(ctx, work));
  } finally {
    returned += 1;
    // Every waitUntil of a call is registered by the time its response is returned.
    ctx.waitUntil(
      Promise.allSettled(work).then(() => {
        completed += 1;
        for (const [name, n] of Object.entries(calls)) completedCalls[name] = (completedCalls[name] ?? 0) + n;
      }),
    );
  }
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/stats")
      return Response.json({ started, returned, completed, calls: completedCalls });
    if (url.pathname === "/__bench/do-delay" && request.method === "POST") {
      const ms = Number(url.searchParams.get("ms"));
      if (!Number.isFinite(ms) || ms < 0) return new Response("ms must be a number >= 0\n", { status: 400 });
      delayMs = ms;
      return Response.json({ delayMs });
    }
    return serve(request, env, ctx);
  },
} satisfies ExportedHandler<CloudflareBindings>;
