import { GatewayError } from "../errors";
import type { KeyRecord, Provider, RequestType } from "./schemas";
import { providers } from "./store";

export type Target = { providerName: string; provider: Provider; model: string };

/** `<provider>/<model>`: the provider is everything before the first slash; model names may hold more. */
export function splitModel(model: string): { providerName: string; model: string } | null {
  const slash = model.indexOf("/");
  if (slash <= 0 || slash === model.length - 1) return null;
  return { providerName: model.slice(0, slash), model: model.slice(slash + 1) };
}

/** A key's `models` entries are `<provider>/<model>` or `<provider>/*`. */
export function modelAllowed(key: KeyRecord, providerName: string, model: string): boolean {
  if (key.providers && !key.providers.includes(providerName)) return false;
  if (!key.models) return true;
  return key.models.some((p) => p === `${providerName}/${model}` || p === `${providerName}/*`);
}

/** Turns the client's model string into a provider and upstream model, checking the key's allowlists. */
export async function resolveTarget(
  env: CloudflareBindings,
  key: KeyRecord,
  modelString: string,
  requestType: RequestType,
): Promise<Target> {
  const split = splitModel(modelString);
  if (!split) {
    throw new GatewayError(
      "not_found",
      404,
      `The model '${modelString}' does not exist. Use '<provider>/<model>', e.g. 'databricks/databricks-claude-sonnet-4'.`,
      { param: "model" },
    );
  }
  const { providerName, model } = split;
  // Checked before existence, so a restricted key cannot probe which providers exist.
  if (!modelAllowed(key, providerName, model)) {
    throw new GatewayError("permission", 403, `This API key may not use the model '${modelString}'.`, {
      param: "model",
    });
  }
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
