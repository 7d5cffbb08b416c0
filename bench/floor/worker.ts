import { STAGES } from "./stages";

/**
 * The bench's floor: forwards a chat completion to the emulator and returns the upstream's body, through
 * the stages its variant names (`/<variant>/v1/chat/completions`, see ./stages.ts). `GET /health` answers
 * without an upstream call (the cold-start baseline).
 */
type FloorEnv = { UPSTREAM_URL: string; DATABRICKS_PAT: string };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    const variant = url.pathname.split("/")[1] ?? "";
    const stage = STAGES[variant];
    if (!stage || request.method !== "POST") return new Response("no such floor variant\n", { status: 404 });
    const headers = new Headers({
      authorization: `Bearer ${env.DATABRICKS_PAT}`,
      "content-type": "application/json",
    });
    const fault = request.headers.get("x-emulator-fault");
    if (fault) headers.set("x-emulator-fault", fault);
    const upstream = await fetch(`${env.UPSTREAM_URL}/mlflow/v1/chat/completions`, {
      method: "POST",
      headers,
      body: request.body,
    });
    if (!upstream.body) return upstream;
    return new Response(stage(upstream.body), upstream);
  },
} satisfies ExportedHandler<FloorEnv>;
