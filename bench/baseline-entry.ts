import { DurableObject } from "cloudflare:workers";

/**
 * The cold-start baseline: a Worker with the gateway's bindings (wrangler.toml: KV, both Durable Object
 * classes, the same vars) and almost no code. Started the same way as the gateway, it shows what workerd
 * and the bindings cost, so the difference is what the gateway's bundle costs.
 */
export class Limiter extends DurableObject<CloudflareBindings> {}
export class Cooldowns extends DurableObject<CloudflareBindings> {}

export default {
  fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return Response.json({ ok: true });
    return Response.json({ error: { message: "Invalid API key." } }, { status: 401 });
  },
} satisfies ExportedHandler<CloudflareBindings>;
