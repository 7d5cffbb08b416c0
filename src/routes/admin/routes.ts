import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name, Route } from "../../config/schemas";
import { keys, routes } from "../../config/store";
import { readJson } from "../../http/validator";
import { parseWith } from "../../formats/validate";
import { routeReferenceIssues, routeUsers } from "../../config/references";
import { loadViewForRoute, refuse, refuseInUse } from "./checks";
import { deleteRoute, saveRoute } from "./writes";

/** Routes: model aliases with a weighted split, retries and ordered fallbacks (src/routing/). */
export const adminRoutes = new Hono<AppEnv>();

const routeName = (raw: string) => parseWith(Name, raw, "route name");

adminRoutes.get("/", async (c) => {
  const all = await routes.list(c.env);
  return c.json({ data: all.map(({ name, route }) => ({ name, ...route })) });
});

adminRoutes.put("/:name", async (c) => {
  const name = routeName(c.req.param("name"));
  const route = await readJson(c, Route);
  refuse(routeReferenceIssues(route, await loadViewForRoute(c.env, route)));
  await saveRoute(c.env, name, route);
  return c.json({ name, ...route });
});

adminRoutes.get("/:name", async (c) => {
  const name = routeName(c.req.param("name"));
  const route = await routes.getFresh(c.env, name);
  if (!route) throw new GatewayError("not_found", 404, `No route named '${name}'.`);
  return c.json({ name, ...route });
});

adminRoutes.delete("/:name", async (c) => {
  const name = routeName(c.req.param("name"));
  if (!(await routes.getFresh(c.env, name)))
    throw new GatewayError("not_found", 404, `No route named '${name}'.`);
  refuseInUse(`Route '${name}'`, routeUsers(name, await keys.list(c.env)));
  await deleteRoute(c.env, name);
  return c.json({ name, deleted: true });
});
