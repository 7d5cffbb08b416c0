import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name, Provider } from "../../config/schemas";
import { providers } from "../../config/store";
import { readJson } from "../../http/validator";
import { parseWith } from "../../formats/validate";
import { limiterFor, limitsConfig } from "../../limits/client";
import { leases } from "../../limits/leases";
import { pricingWarnings } from "../../limits/pricing";

/** Providers hold no secret values, only the names of Worker secrets, so they are returned whole. */
export const adminProviders = new Hono<AppEnv>();

const providerName = (raw: string) => parseWith(Name, raw, "provider name");

adminProviders.get("/", async (c) => {
  const all = await providers.list(c.env);
  return c.json({ data: all.map(({ name, provider }) => ({ name, ...provider })) });
});

adminProviders.put("/:name", async (c) => {
  const name = providerName(c.req.param("name"));
  const provider = await readJson(c, Provider);
  await providers.put(c.env, name, provider);
  // The global cap lives in the provider's limiter, which applies a change to its next lease.
  await limiterFor(c.env, { kind: "provider", name }).configure(limitsConfig(provider.limits));
  leases.forget({ kind: "provider", name });
  const warnings = pricingWarnings(name, provider);
  return c.json({ name, ...provider, ...(warnings.length > 0 && { warnings }) });
});

adminProviders.get("/:name", async (c) => {
  const name = providerName(c.req.param("name"));
  const provider = await providers.getFresh(c.env, name);
  if (!provider) throw new GatewayError("not_found", 404, `No provider named '${name}'.`);
  return c.json({ name, ...provider });
});

adminProviders.delete("/:name", async (c) => {
  const name = providerName(c.req.param("name"));
  if (!(await providers.getFresh(c.env, name))) {
    throw new GatewayError("not_found", 404, `No provider named '${name}'.`);
  }
  await providers.delete(c.env, name);
  await limiterFor(c.env, { kind: "provider", name }).configure(limitsConfig(undefined));
  leases.forget({ kind: "provider", name });
  return c.json({ name, deleted: true });
});
