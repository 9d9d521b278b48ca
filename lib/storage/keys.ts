/**
 * Repo keys as storage sees them: 66 lower-case hex characters of a
 * compressed secp256k1 public key.
 *
 * @module
 */

const KEY_PATTERN = /^0[23][0-9a-f]{64}$/;

/** True when `key` is 66 lower-case hex characters starting with `02` or `03`. */
export function isRepoKey(key: unknown): key is string {
  return typeof key === "string" && KEY_PATTERN.test(key);
}

/** Throws a `TypeError` naming `what` unless `key` is a repo key. */
export function checkRepoKey(key: unknown, what: string): string {
  if (!isRepoKey(key)) {
    const shown = typeof key === "string"
      ? `"${key.length > 80 ? key.slice(0, 80) + "…" : key}"`
      : typeof key;
    throw new TypeError(
      `Cannot ${what}: a repo key must be 66 lower-case hex characters starting with 02 or 03 (a compressed public key), got ${shown}`,
    );
  }
  return key;
}

/** The first 8 characters of a key and an ellipsis, for messages. */
export function shortKey(key: string): string {
  return key.slice(0, 8) + "…";
}
