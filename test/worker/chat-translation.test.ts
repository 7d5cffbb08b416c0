import { describe, expect, it } from "vitest";
import { anthropicFormat, chat, emulatorRequests, setup } from "./helpers";

/** /v1/chat/completions to an anthropic provider: what the translation drops, it names. */
describe("chat completions onto Messages", () => {
  it("names a JSON response_format and tools that are not functions in x-bricklane-dropped", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const marker = crypto.randomUUID();
    const res = await chat(
      key,
      {
        model: `${provider}/m`,
        messages: [
          { role: "user", content: "weather?" },
          { role: "developer", content: "answer in JSON" },
        ],
        response_format: { type: "json_object" },
        tools: [
          { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
          { type: "custom", custom: { name: "sql", format: { type: "grammar" } } },
        ],
        seed: 7,
      },
      { "x-trace": marker },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-bricklane-dropped")).toBe("response_format, custom");
    const sent = (await emulatorRequests()).find((r) => r.headers["x-trace"] === marker)?.body as {
      system: { text: string }[];
      tools: { name: string }[];
    };
    expect(sent.system).toEqual([{ type: "text", text: "answer in JSON" }]);
    expect(sent.tools.map((t) => t.name)).toEqual(["get_weather"]);
    expect(sent).not.toHaveProperty("seed");
  });

  it("answers 400 naming a role it does not know, and n > 1", async () => {
    const { key, provider } = await setup(anthropicFormat());
    const role = await chat(key, { model: `${provider}/m`, messages: [{ role: "critic", content: "x" }] });
    expect(role.status).toBe(400);
    expect(((await role.json()) as { error: { param: string } }).error.param).toBe("messages[0].role");
    const n = await chat(key, { model: `${provider}/m`, n: 2, messages: [{ role: "user", content: "x" }] });
    expect(n.status).toBe(400);
    expect(((await n.json()) as { error: { param: string } }).error.param).toBe("n");
  });
});
