import type { Context } from "hono";
import { resolveModel, loadTarget, type Target } from "../config/resolve";
import { DEFAULT_RETRY_ON, DEFAULT_TIMEOUT_MS, type RequestType, type Route } from "../config/schemas";
import type { AppEnv } from "../env";
import { GatewayError, badRequest } from "../errors";
import { headerValue, modelProblem } from "../formats/bounds";
import { logAnsweredCall, logFailedCall } from "../http/call-log";
import type { Relayed } from "../http/relay";
import { callUpstream } from "../upstream/call";
import { RouteCooldowns } from "./cooldowns";
import { DEFAULT_BACKOFF, attemptOrder, backoffMs } from "./plan";

/**
 * What a route handler does with a target: the upstream path and body, and how to answer from the
 * upstream's response; or, for a target the gateway answers itself (an estimate), just the answer.
 * `dropped` names capabilities the translation for this target had to leave out (x-bricklane-dropped);
 * `editHeaders` adjusts the upstream request's headers (a provider's passthrough shaping);
 * `acceptStatuses` are error statuses `respond` handles itself instead of their becoming an error.
 */
export type Plan =
  | {
      path: string;
      body: unknown;
      respond: (res: Response) => Relayed | Promise<Relayed>;
      dropped?: readonly string[];
      editHeaders?: ((headers: Headers) => void) | undefined;
      acceptStatuses?: readonly number[];
    }
  | { answer: () => Response };

function served(c: Context<AppEnv>, target: Target, attempts: number, plan: Plan): void {
  c.get("call").attempts = attempts;
  c.header("x-bricklane-provider", target.providerName);
  c.header("x-bricklane-model", headerValue(target.model));
  c.header("x-bricklane-attempts", String(attempts));
  const dropped = "dropped" in plan ? droppedHeader(plan.dropped) : null;
  if (dropped) c.header("x-bricklane-dropped", dropped);
  else c.header("x-bricklane-dropped", undefined);
}

/**
 * The names in `x-bricklane-dropped`: distinct, comma-separated. They may come from the client (a tool
 * type it sent), so only short token-like names go into the header, and only a few of them.
 */
export function droppedHeader(names: readonly string[] | undefined): string | null {
  if (!names || names.length === 0) return null;
  const safe = [...new Set(names)].filter((n) => /^[A-Za-z0-9_.:\[\]-]{1,64}$/.test(n)).slice(0, 16);
  return safe.length > 0 ? safe.join(", ") : null;
}

/** Waits `ms`, or less if the client goes away (then the caller's next upstream call is aborted too). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** A call's result: the client's response, and the call's record once it is over if it reached upstream. */
type Dispatched = { response: Response; outcome: Relayed["outcome"] | null };

/**
 * Sends one call where its model string points: straight to a provider, or through a route's split,
 * retries and fallbacks. Retries and fallbacks happen only before the response is returned, that is
 * before the first byte reaches the client; after it, a failure is the stream's in-band error. `plan`
 * builds the request for each target (the body depends on the target's wire format); its errors are
 * the client's (a 400 for a request that cannot be translated) and are never retried.
 *
 * This is also where a call is accounted for, start to end: admitted for its key and team before
 * anything else, for the provider per attempt, and settled once, in the `finally` below, when the
 * response is over (usage into the batches, or the requests given back if nothing reached upstream).
 * Every model string comes through here, so this is where it is bounded.
 */
export async function dispatch(
  c: Context<AppEnv>,
  modelString: string,
  requestType: RequestType,
  plan: (target: Target) => Plan,
): Promise<Response> {
  const problem = modelProblem(modelString);
  if (problem) throw badRequest(problem, "model");
  const resolved = await resolveModel(c.env, c.get("key"), modelString, requestType);
  const trace = c.get("call");
  trace.requestType = requestType;
  if (resolved.kind === "route") trace.route = resolved.name;
  const meter = c.get("meter");
  let outcome: Dispatched["outcome"] = null;
  let failure: unknown = null;
  try {
    await meter.admit();
    const done =
      resolved.kind === "provider"
        ? await dispatchTarget(c, resolved.target, plan)
        : await dispatchRoute(c, resolved.name, resolved.route, requestType, plan);
    outcome = done.outcome;
    return done.response;
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    c.executionCtx.waitUntil(settle(c, outcome, failure));
  }
}

/**
 * The end of a call, once: its usage into the batches (or its requests given back if nothing reached an
 * upstream) and its record into the call log. Resolves once both are done; the accounting waits for the
 * call, never for its log (a copy of a body still being read must not hold usage back).
 */
async function settle(c: Context<AppEnv>, outcome: Dispatched["outcome"], failure: unknown): Promise<void> {
  const meter = c.get("meter");
  if (!outcome) {
    const logged = c.get("call").sentUpstream ? logFailedCall(c, failure) : Promise.resolve();
    await Promise.all([meter.settle(null), logged]);
    return;
  }
  // Tokens count from what the upstream reported (or the estimate); a cut stream is an error.
  const counted = outcome.then((result) => ({
    usage: result.usage,
    error: result.end === "upstream_cut" || result.end === "upstream_error_event",
  }));
  await Promise.all([meter.settle(counted), outcome.then((result) => logAnsweredCall(c, result))]);
}

async function dispatchTarget(
  c: Context<AppEnv>,
  target: Target,
  plan: (target: Target) => Plan,
): Promise<Dispatched> {
  const p = plan(target);
  if ("answer" in p) return { response: p.answer(), outcome: null };
  served(c, target, 1, p);
  return attempt(c, target, p);
}

/**
 * One attempt at a target: nothing goes upstream unless the provider (its global cap) admits it too;
 * the rate headers are set from what admitted it, and the answer is relayed.
 */
async function attempt(
  c: Context<AppEnv>,
  target: Target,
  p: Extract<Plan, { path: string }>,
  timeoutMs?: number,
): Promise<Relayed> {
  const meter = c.get("meter");
  await meter.admitAttempt(target.providerName, target.provider, target.model);
  for (const [name, value] of Object.entries(meter.headers())) c.header(name, value);
  meter.sending();
  const res = await callUpstream(c, target, p.path, p.body, {
    editHeaders: p.editHeaders,
    acceptStatuses: p.acceptStatuses,
    ...(timeoutMs !== undefined && { timeoutMs }),
  });
  return p.respond(res);
}

async function dispatchRoute(
  c: Context<AppEnv>,
  name: string,
  route: Route,
  requestType: RequestType,
  plan: (target: Target) => Plan,
): Promise<Dispatched> {
  const started = Date.now();
  const deadline = route.deadlineMs !== undefined ? started + route.deadlineMs : Infinity;
  const retryOn = new Set<string>(route.retryOn ?? DEFAULT_RETRY_ON);
  const key = c.get("key");
  const meter = c.get("meter");
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p.catch(() => {}));
  const cooldowns = route.cooldown ? new RouteCooldowns(c.env, name, waitUntil) : null;
  const order = attemptOrder(route, Math.random(), (d) => cooldowns?.cooling(d) ?? false);
  const signal = c.req.raw.signal;

  let attempts = 0;
  let last: GatewayError | null = null;
  for (const dest of order) {
    // The key's provider allowlist narrows a route's destinations; a destination that cannot take this
    // request is passed over like a failed one.
    if (key.providers && !key.providers.includes(dest.provider)) continue;
    let target: Target;
    try {
      target = await loadTarget(
        c.env,
        dest.provider,
        dest.model,
        requestType,
        `${dest.provider}/${dest.model}`,
      );
    } catch (e) {
      if (e instanceof GatewayError) {
        last = e;
        continue;
      }
      throw e;
    }
    const p = plan(target);
    if ("answer" in p) return { response: p.answer(), outcome: null };
    for (let retry = 0; retry <= (route.retries ?? 0); retry++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      attempts += 1;
      served(c, target, attempts, p);
      try {
        const timeout = Math.min(
          route.firstByteTimeoutMs ?? target.provider.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          remaining,
        );
        const relayed = await attempt(c, target, p, Math.max(1, Math.floor(timeout)));
        cooldowns?.success(dest);
        return relayed;
      } catch (e) {
        if (!(e instanceof GatewayError) || !e.retryClass || !retryOn.has(e.retryClass)) throw e;
        meter.attemptFailed();
        last = e;
        if (cooldowns && route.cooldown) waitUntil(cooldowns.failure(dest, route.cooldown));
        if (retry === (route.retries ?? 0)) break;
        const wait = backoffMs(retry, e.retryAfterMs, route.backoff ?? DEFAULT_BACKOFF, Math.random());
        // A wait past the deadline is pointless: move on to the next destination instead.
        if (Date.now() + wait >= deadline) break;
        await pause(wait, signal);
        if (signal?.aborted) throw e;
      }
    }
    if (Date.now() >= deadline) break;
  }
  if (Date.now() >= deadline) {
    throw new GatewayError(
      "timeout",
      504,
      `Route '${name}' found no answer within its deadline of ${route.deadlineMs} ms.`,
      {
        internal: last ? `last failure: ${last.message}` : "no attempt made",
      },
    );
  }
  throw (
    last ??
    new GatewayError("permission", 403, `This API key may not use any destination of route '${name}'.`, {
      param: "model",
    })
  );
}
