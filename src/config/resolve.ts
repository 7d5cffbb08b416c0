import { GatewayError } from "../errors";
import type { KeyRecord, Provider, RequestType, Route } from "./schemas";
import { providers, routes } from "./store";

export type Target = { providerName: string; provider: Provider; model: string };

/** What a model string names: one provider's model, or a route over several. */
export type Resolution = { kind: "provider"; target: Target } | { kind: "route"; name: string; route: Route };

/** `<provider>/<model>`: the provider is everything before the first slash; model names may hold more. */
export function splitModel(model: string): { providerName: string; model: string } | null {
  const slash = model.indexOf("/");
  if (slash <= 0 || slash === model.length - 1) return null;
  return { providerName: model.slice(0, slash), model: model.slice(slash + 1) };
}

/** A key's `models` entries are `<provider>/<model>`, `<provider>/*` or route names. */
export function modelAllowed(key: KeyRecord, providerName: string, model: string): boolean {
  if (key.providers && !key.providers.includes(providerName)) return false;
  if (!key.models) return true;
  return key.models.some((p) => p === `${providerName}/${model}` || p === `${providerName}/*`);
}

/** A route is allowed by name in `models`; its destinations then only need the key's `providers`. */
export function routeAllowed(key: KeyRecord, routeName: string): boolean {
  return !key.models || key.models.includes(routeName);
}

/** The provider behind a target, checked for existence and the request type. */
export async function loadTarget(
  env: CloudflareBindings,
  providerName: string,
  model: string,
  requestType: RequestType,
  modelString: string,
): Promise<Target> {
  const provider = await providers.get(env, providerName);
  if (!provider) {
    throw new GatewayError(
      "not_found",
      404,
      `Unknown provider '${providerName}' in model '${modelString}'.`,
      {
        param: "model",
      },
    );
  }
  if (provider.requests && !provider.requests.includes(requestType)) {
    throw new GatewayError(
      "invalid_request",
      400,
      `Provider '${providerName}' does not allow '${requestType}' requests.`,
      { param: "model" },
    );
  }
  return { providerName, provider, model };
}

/**
 * Turns the client's model string into a provider's model or a route, checking the key's allowlists.
 * Allowlists are checked before existence, so a restricted key cannot probe what exists.
 */
export async function resolveModel(
  env: CloudflareBindings,
  key: KeyRecord,
  modelString: string,
  requestType: RequestType,
): Promise<Resolution> {
  const split = splitModel(modelString);
  if (!split) {
    if (!routeAllowed(key, modelString)) {
      throw new GatewayError("permission", 403, `This API key may not use the model '${modelString}'.`, {
        param: "model",
      });
    }
    const route = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(modelString)
      ? await routes.get(env, modelString)
      : null;
    if (!route) {
      throw new GatewayError(
        "not_found",
        404,
        `The model '${modelString}' does not exist. Use '<provider>/<model>' (e.g. 'databricks/databricks-claude-sonnet-4-5') or the name of a route.`,
        { param: "model" },
      );
    }
    return { kind: "route", name: modelString, route };
  }
  const { providerName, model } = split;
  if (!modelAllowed(key, providerName, model)) {
    throw new GatewayError("permission", 403, `This API key may not use the model '${modelString}'.`, {
      param: "model",
    });
  }
  return { kind: "provider", target: await loadTarget(env, providerName, model, requestType, modelString) };
}

/** The single-provider form, for calls that cannot go through a route (e.g. listing). */
export async function resolveTarget(
  env: CloudflareBindings,
  key: KeyRecord,
  modelString: string,
  requestType: RequestType,
): Promise<Target> {
  const resolved = await resolveModel(env, key, modelString, requestType);
  if (resolved.kind === "provider") return resolved.target;
  throw new GatewayError(
    "invalid_request",
    400,
    `'${modelString}' is a route; this call needs '<provider>/<model>'.`,
    {
      param: "model",
    },
  );
}
