/**
 * The names tools carry upstream, and the way back.
 *
 * A Responses client names a tool by `name`, inside a `namespace` for grouped tools (Codex's
 * `multi_agent_v1`, MCP servers), and as `function` or `custom` (freeform input). Chat Completions and
 * Messages know only flat function names, and both providers accept `^[a-zA-Z0-9_-]{1,64}$`. So every tool
 * gets one upstream ("wire") name, and every call the upstream makes is mapped back to the tool the client
 * declared, with its namespace and kind, which is what Codex dispatches on.
 *
 * The mapping is a pure function of the request (its tools and the calls in its history), so the next
 * turn, which the client sends whole, maps the same tools to the same names again: nothing is stored.
 */

export type ToolKind = "function" | "custom";

/** A tool as the client knows it. */
export interface ClientTool {
  name: string;
  /** The group a namespaced tool belongs to; absent for plain tools. */
  namespace?: string;
  kind: ToolKind;
}

const MAX_NAME = 64;
const VALID = /^[A-Za-z0-9_-]{1,64}$/;

/** 32-bit FNV-1a, as 8 hex digits: a short, stable tag for a name that had to be shortened. */
function tag(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

const keyOf = (t: ClientTool): string => `${t.kind}\u0000${t.namespace ?? ""}\u0000${t.name}`;

/** `namespace__name` (Codex's own flat form) with characters upstreams refuse replaced by `_`. */
function preferredName(t: ClientTool): string {
  const flat = t.namespace === undefined ? t.name : `${t.namespace}__${t.name}`;
  return flat.replace(/[^A-Za-z0-9_-]/g, "_");
}

export class ToolNames {
  private readonly byWire = new Map<string, ClientTool>();
  private readonly byClient = new Map<string, string>();

  /**
   * Registers a tool and answers its wire name (the same one for the same tool, however often it is
   * registered). A name that is valid upstream and still free is kept as it is; otherwise it is shortened
   * and tagged with a hash of the tool's identity, so it does not depend on the order tools came in.
   */
  add(tool: ClientTool): string {
    const key = keyOf(tool);
    const known = this.byClient.get(key);
    if (known !== undefined) return known;
    const preferred = preferredName(tool);
    let wire = preferred;
    if (!VALID.test(wire) || this.byWire.has(wire)) {
      const suffix = `_${tag(key)}`;
      const head = (preferred || "tool").slice(0, MAX_NAME - suffix.length);
      wire = `${head}${suffix}`;
      for (let n = 2; this.byWire.has(wire); n++) {
        const counter = `_${n}`;
        wire = `${head.slice(0, MAX_NAME - suffix.length - counter.length)}${suffix}${counter}`;
      }
    }
    this.byWire.set(wire, tool);
    this.byClient.set(key, wire);
    return wire;
  }

  /** The wire name of a tool registered before, or null. */
  wireName(tool: ClientTool): string | null {
    return this.byClient.get(keyOf(tool)) ?? null;
  }

  /**
   * The client's tool behind a name the upstream used. A name the gateway never gave out (a model inventing
   * a tool) comes back as a plain function of that name, so the client reports it as it would any unknown
   * call.
   */
  clientTool(wire: string): ClientTool {
    return this.byWire.get(wire) ?? { name: wire, kind: "function" };
  }
}
