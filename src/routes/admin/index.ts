import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { adminAuth } from "../../http/admin-auth";
import { adminCalls } from "./calls";
import { adminConfig } from "./config";
import { adminKeys } from "./keys";
import { adminProviderTest } from "./provider-test";
import { adminProviders } from "./providers";
import { adminRoutes } from "./routes";
import { adminTeams } from "./teams";
import { adminUsage } from "./usage";

/** Admin bodies are small configuration documents; anything larger is refused before it is read whole. */
export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

export const admin = new Hono<AppEnv>();
admin.use("*", adminAuth);
admin.use(
  "*",
  bodyLimit({
    maxSize: MAX_ADMIN_BODY_BYTES,
    onError: () => {
      throw new GatewayError(
        "request_too_large",
        413,
        `The request body is larger than ${MAX_ADMIN_BODY_BYTES} bytes.`,
      );
    },
  }),
);
admin.route("/providers", adminProviders);
admin.route("/providers", adminProviderTest);
admin.route("/keys", adminKeys);
admin.route("/teams", adminTeams);
admin.route("/routes", adminRoutes);
admin.route("/usage", adminUsage);
admin.route("/calls", adminCalls);
admin.route("/config", adminConfig);
