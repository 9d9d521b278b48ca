/**
 * Repo keys: the 66-character lower-case hex of a compressed secp256k1
 * public key, which names a repo on the wire, in URLs and in storage.
 *
 * @module
 */

const KEY_PATTERN = /^0[23][0-9a-f]{64}$/;

/**
 * Whether `key` is a repo key: 66 lower-case hex characters starting with
 * `02` or `03`.
 *
 * @example
 * ```ts
 * import { isRepoKey } from "@streamo/streamo";
 * console.log(isRepoKey("02" + "ab".repeat(32))); // true
 * console.log(isRepoKey("02" + "AB".repeat(32))); // false
 * ```
 */
export function isRepoKey(key: unknown): boolean {
  return typeof key === "string" && KEY_PATTERN.test(key);
}

/**
 * Returns `key` if it is a repo key, else throws a `TypeError` saying what
 * is wrong with it; `what` names the operation in the message.
 *
 * @example
 * ```ts
 * import { checkRepoKey } from "@streamo/streamo";
 * checkRepoKey("03" + "00".repeat(32), "open a repo"); // ok
 * ```
 */
export function checkRepoKey(key: unknown, what = "use a repo key"): string {
  if (isRepoKey(key)) return key as string;
  let why: string;
  if (typeof key !== "string") why = `expected a string, got ${typeof key}`;
  else if (key.length !== 66) {
    why = `expected 66 hex characters, got ${key.length}`;
  } else if (/[A-F]/.test(key)) why = "hex must be lower-case";
  else if (!/^[0-9a-f]*$/.test(key)) why = "it contains a non-hex character";
  else why = `it must start with 02 or 03, not ${key.slice(0, 2)}`;
  const shown = typeof key === "string"
    ? JSON.stringify(key.length > 80 ? key.slice(0, 80) + "…" : key)
    : String(key);
  throw new TypeError(`Cannot ${what}: ${shown} is not a repo key (${why})`);
}
