/**
 * A Durable Object namespace seen through a proxy that counts every call made on its stubs and can delay
 * each one, as a call to an object in another location would be. The bench's gateway entry wraps the
 * gateway's namespaces with it; nothing in src/ knows of it.
 */

/** Calls made so far, by `<binding>.<method>`. */
export type CallTally = Record<string, number>;

export type CountingOptions = {
  /** The binding's name, the prefix of the tally's keys. */
  label: string;
  tally: CallTally;
  /** Read at each call, so a running bench can change it. */
  delayMs: () => number;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function countingStub<S extends object>(stub: S, opts: CountingOptions): S {
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]): unknown => {
        const name = `${opts.label}.${prop}`;
        opts.tally[name] = (opts.tally[name] ?? 0) + 1;
        const call = (): unknown => Reflect.apply(value, target, args);
        const ms = opts.delayMs();
        return ms > 0 ? sleep(ms).then(call) : call();
      };
    },
  });
}

/**
 * The namespace with `get` (and `getByName`) handing out counting stubs; everything else (`idFromName`,
 * `idFromString`, …) is the namespace's own, bound to it.
 */
export function countingNamespace<N extends object>(namespace: N, opts: CountingOptions): N {
  return new Proxy(namespace, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]): unknown => {
          const stub: unknown = Reflect.apply(value, target, args);
          return typeof stub === "object" && stub !== null ? countingStub(stub, opts) : stub;
        };
      }
      return (...args: unknown[]): unknown => Reflect.apply(value, target, args);
    },
  });
}
