// @ts-check
/**
 * POST /mlflow/v1/completions: OpenAI's legacy text completions, as Databricks serves them for
 * completion models. One choice per prompt (a string prompt, or each string of an array), JSON or SSE.
 */
import { estimateTokens, isObject, makeId, planText, replyText, textPlan } from "./content.mjs";
import { withEcho } from "./faults.mjs";
import { sendJson } from "./http.mjs";
import { openaiError } from "./openai.mjs";
import { dataFrame, sseWriter } from "./sse.mjs";
import { openaiUsage } from "./usage.mjs";

/** @typedef {import("./openai.mjs").HandlerContext} HandlerContext */

/**
 * The prompts of a request: a string, or a non-empty array of strings. Token-id prompts (arrays of
 * numbers) are not served: the emulator has no tokenizer.
 * @param {unknown} prompt
 * @returns {string[] | null}
 */
function promptsOf(prompt) {
  if (typeof prompt === "string") return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === "string")) {
    return /** @type {string[]} */ (prompt);
  }
  return null;
}

/**
 * POST /mlflow/v1/completions
 * @param {HandlerContext} ctx
 */
export async function completions(ctx) {
  const { res, body, fault, signal } = ctx;
  const prompts = isObject(body) ? promptsOf(body.prompt) : null;
  if (!isObject(body) || prompts === null) {
    return sendJson(
      res,
      400,
      openaiError(400, "prompt must be a string or a non-empty array of strings", "prompt"),
    );
  }
  const id = makeId("cmpl-emu-", ctx.seq);
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === "string" ? body.model : "emulator-model";
  const headers = { "x-request-id": makeId("req_emu_", ctx.seq) };
  const maxTokens = Number(body.max_tokens);
  const maxChars = Number.isInteger(maxTokens) && maxTokens >= 0 ? maxTokens * 4 : Infinity;
  const plans = prompts.map((p) => textPlan(replyText(p), fault, maxChars));
  const prompt = estimateTokens(prompts.reduce((n, p) => n + p.length, 0));
  const completion = estimateTokens(plans.reduce((n, p) => n + p.totalChars, 0));
  const usage = fault.no_usage ? undefined : openaiUsage(prompt, completion, fault);
  /** @param {import("./content.mjs").TextPlan} plan */
  const finishOf = (plan) => (plan.truncated ? "length" : "stop");

  if (body.stream !== true) {
    return sendJson(
      res,
      200,
      {
        id,
        object: "text_completion",
        created,
        model,
        choices: plans.map((plan, index) => ({
          text: planText(plan),
          index,
          logprobs: null,
          finish_reason: finishOf(plan),
        })),
        ...(usage ? { usage } : {}),
      },
      headers,
    );
  }

  const includeUsage =
    !fault.no_usage && isObject(body.stream_options) && body.stream_options.include_usage === true;
  const sse = sseWriter(
    res,
    signal,
    fault,
    () => dataFrame(openaiError(500, withEcho("emulator: injected mid-stream failure", fault))),
    headers,
  );
  /** @param {number} index @param {string} text @param {string | null} [finish] */
  const chunk = (index, text, finish = null) =>
    dataFrame({
      id,
      object: "text_completion",
      created,
      model,
      choices: [{ text, index, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });

  // Prompts one after the other: each choice's chunks, then its finish_reason.
  for (const [index, plan] of plans.entries()) {
    for (let i = 0; i < plan.count; i++) {
      if (!(await sse.send(chunk(index, plan.at(i))))) return;
    }
    if (!(await sse.send(chunk(index, "", finishOf(plan))))) return;
  }
  if (includeUsage) {
    const frame = dataFrame({ id, object: "text_completion", created, model, choices: [], usage });
    if (!(await sse.send(frame))) return;
  }
  if (!(await sse.send(dataFrame("[DONE]")))) return;
  await sse.end();
}
