import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name, ProviderInput } from "../../config/schemas";
import { keys, providers } from "../../config/store";
import { readJson } from "../../http/validator";
import { parseWith } from "../../formats/validate";
import { providerUsers, providerWarnings } from "../../config/references";
import { loadView, refuseInUse, secretChecker, withWarnings } from "./checks";
import { deleteProvider, saveProvider } from "./writes";

/** Providers hold no secret values, only the names of Worker secrets, so they are returned whole. */
export const adminProviders = new Hono<AppEnv>();

const providerName = (raw: string) => parseWith(Name, raw, "provider name");

adminProviders.get("/", async (c) => {
  const all = await providers.list(c.env);
  return c.json({ data: all.map(({ name, provider }) => ({ name, ...provider })) });
});

adminProviders.put("/:name", async (c) => {
  const name = providerName(c.req.param("name"));
  const provider = await readJson(c, ProviderInput);
  await saveProvider(c.env, name, provider);
  return c.json(withWarnings({ name, ...provider }, providerWarnings(name, provider, secretChecker(c.env))));
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
  const [view, allKeys] = await Promise.all([loadView(c.env), keys.list(c.env)]);
  refuseInUse(`Provider '${name}'`, providerUsers(name, view, allKeys));
  await deleteProvider(c.env, name);
  return c.json({ name, deleted: true });
});
