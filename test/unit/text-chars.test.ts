import { describe, expect, it } from "vitest";
import { messagesPromptChars } from "../../src/formats/anthropic/messages";
import { promptChars } from "../../src/formats/openai/chat";
import { jsonChars, textChars } from "../../src/formats/text-chars";

/** Prompt-size estimates read requests that are forwarded as sent: any shape, any depth. */
describe("prompt-size estimates", () => {
  it("counts text, tool results, tool inputs and tools in a Messages request", () => {
    const body = {
      system: [{ type: "text", text: "abcd" }],
      messages: [
        { role: "user", content: "12345678" },
        { role: "system", content: [{ type: "text", text: "ab" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: { a: 1 } }] },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "r" }] }],
        },
        { role: "user", content: [{ type: "image", source: { type: "base64", data: "x".repeat(1000) } }] },
      ],
      tools: [{ name: "f" }],
    };
    expect(messagesPromptChars(body)).toBe(
      4 + 8 + 2 + JSON.stringify({ a: 1 }).length + 1 + JSON.stringify(body.tools).length,
    );
  });

  it("jsonChars is the length of JSON.stringify for plain values", () => {
    for (const v of [{ a: [1, "b", null, true], c: { d: "é" } }, [], {}, "s", 12.5, [[{}]]]) {
      expect(jsonChars(v)).toBe(JSON.stringify(v).length);
    }
  });

  it("tolerates any shape and any depth without throwing", () => {
    let deep: unknown = { text: "end" };
    for (let i = 0; i < 200_000; i++) deep = { content: [deep] };
    deep = { content: [deep], input: { a: deep } };
    expect(() => messagesPromptChars({ messages: [deep], system: 5, tools: "x" })).not.toThrow();
    expect(textChars(deep, ["content", "text"])).toBe(3);
    expect(jsonChars(deep)).toBeGreaterThan(200_000);
    for (const odd of [null, 42, "text", { content: { content: 7 } }, [[["a"]]]]) {
      expect(() => promptChars(odd)).not.toThrow();
      expect(() => messagesPromptChars({ messages: odd, system: odd, tools: odd })).not.toThrow();
    }
    expect(promptChars([{ role: "user", content: [{ type: "text", text: "abc" }] }, "de"])).toBe(5);
  });
});
