import * as z from "zod";
import { ConfigDocument } from "./config/document";
import { KeyCreate, KeyPatch, KeyRecord, Name, ProviderInput, Route, Team } from "./config/schemas";
import { CountTokensEnvelope, MessagesRequestEnvelope } from "./formats/anthropic/messages";
import { ChatRequestEnvelope } from "./formats/openai/chat";
import { CompletionsRequestEnvelope } from "./formats/openai/completions";
import { EmbeddingsRequestEnvelope } from "./formats/openai/embeddings";
import { CallsQuery } from "./routes/admin/calls";
import { ConfigQuery } from "./routes/admin/config";
import { ProviderTestRequest } from "./routes/admin/provider-test";
import { UsageQuery } from "./routes/admin/usage";
import { BASE_URLS } from "./routes/base-urls";
import { ResponsesEnvelope } from "./routes/responses";

/**
 * The OpenAPI 3.1 description served at /openapi.json, built from the zod schemas the routes validate
 * with (zod's own JSON Schema output), so the document cannot drift from what the gateway accepts. Route
 * handlers stay plain Hono: this module lists the routes; a test checks it lists every one the app has.
 */

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12, which OpenAPI 3.1 uses as is; what the schema accepts, refinements aside. */
function schemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema) => ({ "application/json": { schema } });

/** Every error the gateway answers on admin and OpenAI-format routes. */
const ErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** What successful admin writes may add: settings that are legal but probably not meant. */
const Warnings = z.object({ warnings: z.array(z.string()).optional() });

const COMPONENTS: Record<string, z.ZodType> = {
  Provider: ProviderInput,
  Team,
  Route,
  KeyCreate,
  KeyPatch,
  KeyRecord,
  ConfigDocument,
  ProviderTestRequest,
  Error: ErrorBody,
  ChatCompletionsRequest: ChatRequestEnvelope,
  MessagesRequest: MessagesRequestEnvelope,
  CountTokensRequest: CountTokensEnvelope,
  ResponsesRequest: ResponsesEnvelope,
  CompletionsRequest: CompletionsRequestEnvelope,
  EmbeddingsRequest: EmbeddingsRequestEnvelope,
};

type Operation = {
  summary: string;
  description?: string;
  tags: string[];
  body?: JsonSchema;
  query?: z.ZodObject;
  ok?: { status?: number; description: string; schema?: z.ZodObject };
  auth?: "key" | "admin" | "none";
};

/** What the admin API answers for a named item: its name and its settings (fields it may add allowed). */
const named = (schema: z.ZodObject) => z.object({ name: Name, ...schema.shape });
const list = (schema: z.ZodObject) => z.object({ data: z.array(schema) });
const keyView = z.object({
  ...KeyRecord.shape,
  status: z.enum(["active", "disabled", "deleted"]),
  live: z.record(z.string(), z.unknown()),
});

/** Paths served under /v1, /openai/v1 and /anthropic/v1 alike. */
const PUBLIC_PREFIXES = ["/v1", "/openai/v1", "/anthropic/v1"];

const PUBLIC: Record<string, Record<string, Operation>> = {
  "/chat/completions": {
    post: {
      summary: "Chat completions (OpenAI format)",
      description:
        "Passthrough to `openai` providers, translated for `anthropic` ones. Only the fields shown are read; every other field is forwarded. `stream: true` answers Server-Sent Events.",
      tags: ["Models"],
      body: ref("ChatCompletionsRequest"),
    },
  },
  "/messages": {
    post: {
      summary: "Messages (Anthropic format)",
      description:
        "Passthrough to `anthropic` providers, translated for `openai` ones. `?beta=true` is accepted. Errors come in Anthropic's shape.",
      tags: ["Models"],
      body: ref("MessagesRequest"),
    },
  },
  "/messages/count_tokens": {
    post: { summary: "Count tokens (Anthropic format)", tags: ["Models"], body: ref("CountTokensRequest") },
  },
  "/responses": {
    post: {
      summary: "Responses (OpenAI Responses API, for Codex CLI)",
      description: "Stateless: send the whole history. Translated onto chat completions or messages.",
      tags: ["Models"],
      body: ref("ResponsesRequest"),
    },
    get: {
      summary: "Responses over a WebSocket (Codex CLI's default transport)",
      description:
        'With `Upgrade: websocket`: each text message `{type: "response.create", ...}` is served as a POST to this path would be, and its events come back as one JSON text message each. Without the upgrade: 426.',
      tags: ["Models"],
      ok: { status: 101, description: "Switching protocols" },
    },
  },
  "/completions": {
    post: { summary: "Text completions (legacy OpenAI)", tags: ["Models"], body: ref("CompletionsRequest") },
  },
  "/embeddings": {
    post: { summary: "Embeddings (OpenAI format)", tags: ["Models"], body: ref("EmbeddingsRequest") },
  },
  "/models": {
    get: {
      summary: "Models the key may use",
      description: "OpenAI's list shape, or Anthropic's when the client sends `anthropic-version`.",
      tags: ["Models"],
    },
  },
  "/models/{id}": { get: { summary: "One model", tags: ["Models"] } },
};

const ADMIN: Record<string, Record<string, Operation>> = {
  "/admin/providers": {
    get: {
      summary: "List providers",
      tags: ["Providers"],
      ok: { description: "All providers", schema: list(named(ProviderInput)) },
    },
  },
  "/admin/providers/{name}": {
    get: {
      summary: "Read a provider",
      tags: ["Providers"],
      ok: { description: "The provider", schema: named(ProviderInput) },
    },
    put: {
      summary: "Create or replace a provider",
      tags: ["Providers"],
      body: ref("Provider"),
      ok: { description: "The provider, with `warnings` if any", schema: named(ProviderInput) },
    },
    delete: {
      summary: "Delete a provider",
      description: "409 naming the routes and keys that still use it.",
      tags: ["Providers"],
    },
  },
  "/admin/providers/{name}/test": {
    post: {
      summary: "Test a provider",
      description:
        "One small call to `model` (a short chat or messages request), or without a model the models the provider lists; answers what came back. Not metered.",
      tags: ["Providers"],
      body: ref("ProviderTestRequest"),
    },
  },
  "/admin/keys": {
    get: {
      summary: "List keys",
      tags: ["Keys"],
      ok: { description: "Keys without secrets, with status and live counters", schema: list(keyView) },
    },
    post: {
      summary: "Create a key",
      description: "The answer holds the key itself (`key`): the only time it is shown.",
      tags: ["Keys"],
      body: ref("KeyCreate"),
      ok: { status: 201, description: "The key record and the key" },
    },
  },
  "/admin/keys/{id}": {
    get: {
      summary: "Read a key",
      tags: ["Keys"],
      ok: { description: "The key record with live counters", schema: keyView },
    },
    patch: { summary: "Change a key (`null` clears a setting)", tags: ["Keys"], body: ref("KeyPatch") },
    delete: { summary: "Delete a key (revoked at once, everywhere)", tags: ["Keys"] },
  },
  "/admin/teams": {
    get: {
      summary: "List teams",
      tags: ["Teams"],
      ok: { description: "All teams", schema: list(named(Team)) },
    },
  },
  "/admin/teams/{name}": {
    get: { summary: "Read a team with its live counters", tags: ["Teams"] },
    put: { summary: "Create or replace a team", tags: ["Teams"], body: ref("Team") },
    delete: {
      summary: "Delete a team",
      description: "409 naming the keys that still name it.",
      tags: ["Teams"],
    },
  },
  "/admin/routes": {
    get: {
      summary: "List routes",
      tags: ["Routes"],
      ok: { description: "All routes", schema: list(named(Route)) },
    },
  },
  "/admin/routes/{name}": {
    get: { summary: "Read a route", tags: ["Routes"] },
    put: { summary: "Create or replace a route", tags: ["Routes"], body: ref("Route") },
    delete: {
      summary: "Delete a route",
      description: "409 naming the keys whose `models` name it.",
      tags: ["Routes"],
    },
  },
  "/admin/usage": {
    get: {
      summary: "Usage per day, provider and model",
      description: "For one key, team or provider; with none of them, the whole gateway.",
      tags: ["Usage"],
      query: UsageQuery,
    },
  },
  "/admin/calls": {
    get: {
      summary: "Recent calls from the call log",
      description:
        "Newest first, one page at a time: `nextCursor` fetches the next page (null on the last). Filters combine.",
      tags: ["Usage"],
      query: CallsQuery,
    },
  },
  "/admin/config": {
    get: {
      summary: "Export the configuration as one document",
      tags: ["Config"],
      ok: { description: "The document", schema: ConfigDocument },
    },
    put: {
      summary: "Apply a configuration document",
      description:
        "Makes the configuration match the document; `dryRun=true` answers the changes only; `prune=true` also deletes what the document's sections leave out. New keys' secrets are in the answer, once.",
      tags: ["Config"],
      body: ref("ConfigDocument"),
      query: ConfigQuery,
    },
  },
};

const OTHER: Record<string, Record<string, Operation>> = {
  "/health": { get: { summary: "Liveness", tags: ["Gateway"], auth: "none" } },
  "/openapi.json": { get: { summary: "This document", tags: ["Gateway"], auth: "none" } },
  "/docs": { get: { summary: "Interactive API reference", tags: ["Gateway"], auth: "none" } },
  // Clients check their base URL with a bodiless GET or HEAD (Claude Code does) before any call.
  ...Object.fromEntries(
    BASE_URLS.map((path) => {
      const check: Operation = { summary: "Base URL check", tags: ["Gateway"], auth: "none" };
      return [path, { get: check, head: check }];
    }),
  ),
};

function pathParams(path: string): unknown[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, param]) => ({
    name: param,
    in: "path",
    required: true,
    schema:
      param === "id" && path.startsWith("/admin/keys") ? schemaOf(KeyRecord.shape.id) : { type: "string" },
  }));
}

function queryParams(query: z.ZodObject | undefined): unknown[] {
  if (!query) return [];
  return Object.entries(query.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: schemaOf(field as z.ZodType),
  }));
}

function operation(path: string, method: string, op: Operation, defaultAuth: "key" | "admin" | "none") {
  const auth = op.auth ?? defaultAuth;
  const ok = op.ok ?? { description: "Success" };
  // Writes may add `warnings` to what they answer.
  const okSchema = ok.schema && schemaOf(op.body ? ok.schema.extend(Warnings.shape) : ok.schema);
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: op.summary,
    ...(op.description && { description: op.description }),
    tags: op.tags,
    ...(auth === "none" ? { security: [] } : auth === "admin" ? { security: [{ adminToken: [] }] } : {}),
    parameters: [...pathParams(path), ...queryParams(op.query)],
    ...(op.body && { requestBody: { required: true, content: json(op.body) } }),
    responses: {
      [String(ok.status ?? 200)]: {
        description: ok.description,
        ...(okSchema && { content: json(okSchema) }),
      },
      default: { description: "An error", content: json(ref("Error")) },
    },
  };
}

function pathItems(ops: Record<string, Record<string, Operation>>, auth: "key" | "admin" | "none") {
  return Object.fromEntries(
    Object.entries(ops).map(([path, methods]) => [
      path,
      Object.fromEntries(Object.entries(methods).map(([m, op]) => [m, operation(path, m, op, auth)])),
    ]),
  );
}

function build(): JsonSchema {
  const publicPaths = Object.fromEntries(
    Object.entries(pathItems(PUBLIC, "key")).map(([path, item]) => [
      path,
      { ...item, servers: PUBLIC_PREFIXES.map((url) => ({ url })) },
    ]),
  );
  return {
    openapi: "3.1.0",
    info: {
      title: "Bricklane",
      version: "0.1.0",
      description:
        "An AI gateway on Cloudflare Workers for models on Databricks. Model routes take a virtual key " +
        "(`Authorization: Bearer <key>` or `x-api-key`) and are served under `/v1`, `/openai/v1` and " +
        "`/anthropic/v1`; the admin API takes the admin token.",
    },
    servers: [{ url: "/" }],
    security: [{ virtualKey: [] }, { virtualKeyHeader: [] }],
    tags: ["Models", "Providers", "Keys", "Teams", "Routes", "Usage", "Config", "Gateway"].map((name) => ({
      name,
    })),
    paths: { ...publicPaths, ...pathItems(ADMIN, "admin"), ...pathItems(OTHER, "none") },
    components: {
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, s]) => [name, schemaOf(s)])),
      securitySchemes: {
        virtualKey: { type: "http", scheme: "bearer", description: "A virtual key (bl-…)" },
        virtualKeyHeader: { type: "apiKey", in: "header", name: "x-api-key" },
        adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret" },
      },
    },
  };
}

let cached: JsonSchema | undefined;

/** Built once per isolate, on first request: nothing in it changes while the Worker runs. */
export function openApiDocument(): JsonSchema {
  cached ??= build();
  return cached;
}

/** Where each public path is served, for checking the document against the app's routes. */
export const PUBLIC_PATH_PREFIXES: readonly string[] = PUBLIC_PREFIXES;
