import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { Name, Team } from "../../config/schemas";
import { keys, teams } from "../../config/store";
import { readJson } from "../../http/validator";
import { parseWith } from "../../formats/validate";
import { limiterFor } from "../../limits/client";
import { teamUsers, teamWarnings } from "../../config/references";
import { loadView, refuseInUse, withWarnings } from "./checks";
import { deleteTeam, saveTeam } from "./writes";

/** Teams: limits and a budget shared by every key whose `team` names them. */
export const adminTeams = new Hono<AppEnv>();

const teamName = (raw: string) => parseWith(Name, raw, "team name");

adminTeams.get("/", async (c) => {
  const all = await teams.list(c.env);
  return c.json({ data: all.map(({ name, team }) => ({ name, ...team })) });
});

adminTeams.put("/:name", async (c) => {
  const name = teamName(c.req.param("name"));
  const team = await readJson(c, Team);
  await saveTeam(c.env, name, team);
  const warnings = team.limits?.budget
    ? teamWarnings(name, team, await loadView(c.env), await keys.list(c.env))
    : [];
  return c.json(withWarnings({ name, ...team }, warnings));
});

adminTeams.get("/:name", async (c) => {
  const name = teamName(c.req.param("name"));
  const team = await teams.getFresh(c.env, name);
  if (!team) throw new GatewayError("not_found", 404, `No team named '${name}'.`);
  const live = await limiterFor(c.env, { kind: "team", name }).live();
  return c.json({ name, ...team, live });
});

adminTeams.delete("/:name", async (c) => {
  const name = teamName(c.req.param("name"));
  if (!(await teams.getFresh(c.env, name)))
    throw new GatewayError("not_found", 404, `No team named '${name}'.`);
  refuseInUse(`Team '${name}'`, teamUsers(name, await keys.list(c.env)));
  await deleteTeam(c.env, name);
  return c.json({ name, deleted: true });
});
