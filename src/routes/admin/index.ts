import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { adminAuth } from "../../http/admin-auth";
import { adminConfig } from "./config";
import { adminKeys } from "./keys";
import { adminProviders } from "./providers";
import { adminRoutes } from "./routes";
import { adminTeams } from "./teams";
import { adminUsage } from "./usage";

export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth);
admin.route("/providers", adminProviders);
admin.route("/keys", adminKeys);
admin.route("/teams", adminTeams);
admin.route("/routes", adminRoutes);
admin.route("/usage", adminUsage);
admin.route("/config", adminConfig);
