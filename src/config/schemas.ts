import * as z from "zod";

/**
 * Configuration schemas. Every object is strict: an unknown field is an error on write (admin API) and on
 * read (KV), so a typo never silently turns a setting off.
 */

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** https anywhere; plain http only to loopback hosts (local dev, emulator, tests). */
export const UpstreamUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
    return;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "must not carry a query string or fragment" });
  }
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return;
  ctx.addIssue({ code: "custom", message: "must be an https URL (http is allowed only for loopback hosts)" });
});

/** Names that may appear in a KV key and a model string (`<provider>/<model>`): no slash. */
export const Name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' or '-', at most 64");

export const SecretName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "the name of a Worker secret, e.g. DATABRICKS_PAT");

/** Headers a provider may not set statically: credentials belong in secrets, framing to the runtime. */
const RESERVED_HEADERS = new Set([
  "authorization",
  "x-api-key",
  "cookie",
  "host",
  "content-length",
  "content-type",
  "connection",
  "transfer-encoding",
]);

/**
 * A static header value: visible ASCII, spaces and tabs, bounded. CR, LF or NUL would break every call
 * to the provider (the runtime refuses such a header), so they are refused here, when the admin writes.
 */
const HeaderValue = z
  .string()
  .max(4096)
  .regex(
    /^[\t\x20-\x7e]*$/,
    "a header value: visible ASCII, spaces and tabs (no CR, LF, NUL or other controls)",
  );

export const ProviderAuth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bearer"), secret: SecretName }),
  /**
   * A Databricks service principal (OAuth M2M): both fields name Worker secrets. The token comes from
   * `tokenUrl`, by default the origin of the provider's baseUrl + `/oidc/v1/token`.
   */
  z.strictObject({
    type: z.literal("databricks-oauth"),
    clientId: SecretName,
    clientSecret: SecretName,
    tokenUrl: UpstreamUrl.optional(),
  }),
  z.strictObject({ type: z.literal("none") }),
]);
export type ProviderAuth = z.infer<typeof ProviderAuth>;

/** The request types a provider can serve; `requests` on a provider narrows them. */
export const RequestType = z.enum([
  "chat",
  "messages",
  "count_tokens",
  "responses",
  "completions",
  "embeddings",
]);
export type RequestType = z.infer<typeof RequestType>;

/**
 * USD per million tokens. Cache reads and writes are billed apart from plain input by providers that
 * cache prompts (Anthropic: reads at a tenth of input, 5-minute writes at 1.25 times); left out, they are
 * priced as input (src/limits/pricing.ts).
 */
export const ModelPrice = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cacheReadPerMTok: z.number().nonnegative().optional(),
  cacheWritePerMTok: z.number().nonnegative().optional(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_TOKENS = 4096;

export const Budget = z.strictObject({
  usd: z.number().positive(),
  period: z.enum(["day", "week", "month"]),
});

export const Limits = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  /**
   * Whether tokens read from the prompt cache count toward `tpm`. Off by default, as Anthropic's input
   * rate limits leave them out for current models (cache writes, uncached input and output count).
   */
  tpmCountsCacheReads: z.boolean().optional(),
  maxConcurrent: z.number().int().positive().optional(),
  budget: Budget.optional(),
});
export type Limits = z.infer<typeof Limits>;

/** A beta name as Anthropic spells them, or a prefix of one ending in `*` (`context-management-*`). */
const BetaPattern = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,100}\*?$/,
    "a beta name such as 'context-management-2025-06-27', or a prefix ending in '*'",
  );

/** A body field by name, or a dotted path into an object field (`cache_control.scope`). */
const FieldPath = z
  .string()
  .regex(
    /^[A-Za-z0-9_$-]{1,64}(\.[A-Za-z0-9_$-]{1,64}){0,7}$/,
    "a field name or a dotted path such as 'cache_control.scope'",
  );

/**
 * Request shaping for passthrough calls, for upstreams that reject newer client features: betas to
 * remove from `anthropic-beta`, and body fields to remove wherever they occur (the body, its messages and
 * their content blocks, system blocks, tools).
 */
export const PassthroughShaping = z.strictObject({
  removeBetas: z.array(BetaPattern).max(64).optional(),
  removeFields: z.array(FieldPath).max(64).optional(),
});

export const Provider = z.strictObject({
  format: z.enum(["openai", "anthropic"]),
  baseUrl: UpstreamUrl,
  auth: ProviderAuth,
  headers: z
    .record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, "a header name"), HeaderValue)
    .refine((h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())), {
      message: `may not set ${[...RESERVED_HEADERS].join(", ")}`,
    })
    .optional(),
  requests: z.array(RequestType).min(1).optional(),
  listModelsUrl: UpstreamUrl.optional(),
  models: z.array(z.string().min(1).max(256)).optional(),
  pricing: z.record(z.string().min(1), ModelPrice).optional(),
  timeoutMs: z.number().int().min(100).max(600_000).optional(),
  /** max_tokens sent to an anthropic provider when an OpenAI-format client leaves it out. */
  defaultMaxTokens: z.number().int().positive().max(1_000_000).optional(),
  /** A global cap on everything sent to this provider, across all keys and teams. */
  limits: Limits.optional(),
  passthrough: PassthroughShaping.optional(),
  /** Send `Databricks-Ai-Gateway-Request-Tags` (key, team, route) so Databricks attributes the usage. */
  requestTags: z.boolean().optional(),
});
export type Provider = z.infer<typeof Provider>;

const IsoDate = z.iso.datetime({ offset: true });

/** A model allowlist entry: `<provider>/<model>`, `<provider>/*` for all of a provider's models, or a route name. */
const ModelPattern = z
  .string()
  .min(1)
  .max(320)
  .regex(
    /^([^/\s]+\/.+|[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/,
    "`<provider>/<model>`, `<provider>/*` or a route name",
  );

/** What the admin API accepts to create a key. */
export const KeyCreate = z.strictObject({
  name: z.string().min(1).max(128),
  team: Name.optional(),
  providers: z.array(Name).optional(),
  models: z.array(ModelPattern).optional(),
  expiresAt: IsoDate.optional(),
  limits: Limits.optional(),
  logBodies: z.boolean().optional(),
});

/** What the admin API accepts to change a key; `null` clears an optional setting. */
export const KeyPatch = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  team: Name.nullable().optional(),
  providers: z.array(Name).nullable().optional(),
  models: z.array(ModelPattern).nullable().optional(),
  expiresAt: IsoDate.nullable().optional(),
  limits: Limits.nullable().optional(),
  disabled: z.boolean().optional(),
  logBodies: z.boolean().nullable().optional(),
});
export type KeyPatch = z.infer<typeof KeyPatch>;

/** A virtual key as stored in KV under `key:<sha256 hex of the key>`. Never holds the key itself. */
export const KeyRecord = z.strictObject({
  id: z.string().regex(/^key_[a-z0-9]{16}$/),
  name: z.string().min(1).max(128),
  /** The first characters of the key, so an admin can tell keys apart without the secret. */
  preview: z.string().max(16),
  team: Name.optional(),
  providers: z.array(Name).optional(),
  models: z.array(ModelPattern).optional(),
  createdAt: IsoDate,
  expiresAt: IsoDate.optional(),
  disabled: z.boolean(),
  limits: Limits.optional(),
  /** Request and response bodies go into the call log (capped, secrets redacted). */
  logBodies: z.boolean().optional(),
});
export type KeyRecord = z.infer<typeof KeyRecord>;

/** `keyid:<id>` → which hash holds the record, so the admin API can address keys by id. */
export const KeyIndex = z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/) });

/** A team (`team:<name>`): limits and a budget shared by every key that names it. */
export const Team = z.strictObject({
  limits: Limits.optional(),
  description: z.string().max(500).optional(),
  /** Every key of the team logs request and response bodies (see KeyRecord.logBodies). */
  logBodies: z.boolean().optional(),
});
export type Team = z.infer<typeof Team>;

/** Kinds of upstream failure a route moves on from (see RetryClass in src/errors.ts). */
export const RetryOn = z.enum(["429", "5xx", "timeout", "connection", "auth"]);
export const DEFAULT_RETRY_ON = ["429", "5xx", "timeout", "connection"] as const;

const RouteTarget = { provider: Name, model: z.string().min(1).max(256) };

/**
 * A route (`route:<name>`): a model alias whose calls are split by weight over `destinations`, then, on
 * failures named in `retryOn`, retried (`retries` per destination, exponential backoff with jitter that
 * honours retry-after) and passed down `fallbacks` in order, all before the first byte reaches the client.
 */
export const Route = z.strictObject({
  destinations: z
    .array(z.strictObject({ ...RouteTarget, weight: z.number().positive().max(1_000_000).optional() }))
    .min(1)
    .max(20),
  fallbacks: z.array(z.strictObject(RouteTarget)).max(20).optional(),
  retryOn: z.array(RetryOn).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  backoff: z
    .strictObject({ baseMs: z.number().int().min(0).max(10_000), maxMs: z.number().int().min(0).max(60_000) })
    .optional(),
  /** Per attempt: overrides the provider's timeoutMs. */
  firstByteTimeoutMs: z.number().int().min(100).max(600_000).optional(),
  /** For the whole call, all attempts and waits included, until the first byte. */
  deadlineMs: z.number().int().min(100).max(600_000).optional(),
  cooldown: z
    .strictObject({
      afterFailures: z.number().int().min(1).max(100),
      forMs: z.number().int().min(1000).max(3_600_000),
    })
    .optional(),
});
export type Route = z.infer<typeof Route>;

/**
 * A provider as written through the admin API: a baseUrl ending in /v1 would become `/v1/v1/chat/completions`
 * (the gateway appends the API path), so it is refused on write. Reads use `Provider`, so a value stored
 * before this rule still loads.
 */
export const ProviderInput = Provider.extend({
  baseUrl: UpstreamUrl.refine((url) => !/\/v1\/*$/.test(url), {
    message:
      "must not end in /v1: the gateway appends /v1/chat/completions, /v1/messages, … itself " +
      "(e.g. https://<workspace>.ai-gateway.cloud.databricks.com/mlflow)",
  }),
});
