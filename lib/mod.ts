/**
 * streamo: peer-to-peer sync where your data and identity belong to you.
 *
 * @example
 * ```ts
 * import { Streamo } from "@streamo/streamo";
 * const s = new Streamo();
 * const address = s.append(s.encode({ hello: "world" }));
 * console.log(s.decode(address)); // { hello: "world" }
 * ```
 *
 * @module
 */

export * from "./codec/mod.ts";
export * from "./store/mod.ts";
export * from "./identity/mod.ts";
export * from "./registry/mod.ts";
export * from "./sync/mod.ts";
export { ForkError, SignatureError } from "./errors.ts";
