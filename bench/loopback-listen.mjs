// @ts-check
/**
 * Preloaded into the peer gateway's Node process (`node --import`): a server told to listen on a port but
 * no host listens on 127.0.0.1 instead of every interface. Portkey's CLI takes a port but no host, and
 * the bench's servers stay on loopback.
 */
import { Server } from "node:net";

const listen = Server.prototype.listen;
const listenAny = /** @type {(...args: unknown[]) => unknown} */ (/** @type {unknown} */ (listen));
/** @this {Server} @param {unknown[]} args */
function listenOnLoopback(...args) {
  if (typeof args[0] === "number" && (args[1] === undefined || typeof args[1] === "function")) {
    const rest = args[1] === undefined ? args.slice(2) : args.slice(1);
    return listenAny.call(this, args[0], "127.0.0.1", ...rest);
  }
  return listenAny.apply(this, args);
}
Server.prototype.listen = /** @type {typeof listen} */ (/** @type {unknown} */ (listenOnLoopback));
