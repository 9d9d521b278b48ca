/**
 * SHA-256, synchronous, with a swappable implementation: pure JavaScript by
 * default (runs everywhere), Node's native hash where the runtime has it
 * (see `useFastestBackend`).
 *
 * @module
 */

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

/** A synchronous SHA-256 function. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

let active: Sha256 = nobleSha256;
let activeName = "noble";

/** The SHA-256 digest of `bytes`, with the active implementation. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return active(bytes);
}

/** Name of the active SHA-256 implementation (`"noble"` or `"node:crypto"`). */
export function sha256Name(): string {
  return activeName;
}

/**
 * Makes `implementation` the active SHA-256 after checking it on a known
 * answer; throws an `Error` if it disagrees.
 */
export function setSha256(name: string, implementation: Sha256): void {
  const got = implementation(new TextEncoder().encode("abc"));
  const want = nobleSha256(new TextEncoder().encode("abc"));
  if (got.length !== 32 || got.some((b, i) => b !== want[i])) {
    throw new Error(`SHA-256 implementation "${name}" gives wrong digests`);
  }
  active = implementation;
  activeName = name;
}

/** Restores the pure-JavaScript SHA-256. */
export function resetSha256(): void {
  active = nobleSha256;
  activeName = "noble";
}
