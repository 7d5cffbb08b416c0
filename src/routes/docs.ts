import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { openApiDocument } from "../openapi";

/** The API described (`/openapi.json`, no auth: it holds no configuration) and its interactive reference. */
export const apiDocs = new Hono<AppEnv>();

apiDocs.get("/openapi.json", (c) => c.json(openApiDocument()));

// Scalar's page loads its script from Scalar's CDN in the reader's browser; the Worker serves only HTML.
apiDocs.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Bricklane API" }));
