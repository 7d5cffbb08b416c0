import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { adminAuth } from "../../http/admin-auth";
import { adminKeys } from "./keys";
import { adminProviders } from "./providers";

export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth);
admin.route("/providers", adminProviders);
admin.route("/keys", adminKeys);
