import { env } from "cloudflare:test";

/**
 * The Worker's bindings with the limiter namespace wrapped, so a test can count the Durable Object calls
 * the Worker makes (per method and per object name) while they still reach the real objects.
 */
export function countingEnv(vars: Record<string, string> = {}) {
  const calls: { name: string; method: string }[] = [];
  const names = new Map<string, string>();
  const real = env.LIMITER;
  const LIMITER = new Proxy(real, {
    get(target, prop) {
      if (prop === "idFromName") {
        return (name: string) => {
          const id = target.idFromName(name);
          names.set(id.toString(), name);
          return id;
        };
      }
      if (prop === "get") {
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          const name = names.get(id.toString()) ?? id.toString();
          return new Proxy(stub, {
            get(s, method) {
              const value: unknown = Reflect.get(s, method);
              if (typeof method !== "string" || typeof value !== "function") return value;
              return (...args: unknown[]) => {
                calls.push({ name, method });
                // Called as a property of the stub itself: the RPC stub is its own receiver.
                const rpc = stub as unknown as Record<string, (...a: unknown[]) => unknown>;
                return rpc[method]?.(...args);
              };
            },
          });
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? (value as () => unknown).bind(target) : value;
    },
  });
  return { env: { ...env, ...vars, LIMITER }, calls };
}
