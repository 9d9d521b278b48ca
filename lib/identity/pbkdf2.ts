/**
 * The PBKDF2 steps of streamo's key derivation (SPEC §4), through WebCrypto
 * (`crypto.subtle`), which Deno, browsers, Node and Bun all provide.
 *
 * @module
 */

import { bytesToHex } from "@noble/hashes/utils.js";

const encoder = new TextEncoder();

/** Largest iteration count WebCrypto accepts (an unsigned 32-bit integer). */
export const MAX_ITERATIONS = 0xffff_ffff;

/**
 * The last 32 bytes of PBKDF2-HMAC-SHA256(`password`, `salt`, `iterations`,
 * 64 bytes). Both texts are encoded as UTF-8. Callers validate the inputs.
 */
export async function pbkdf2Tail(
  password: string | Uint8Array<ArrayBuffer>,
  salt: string,
  iterations: number,
): Promise<Uint8Array> {
  const secret = typeof password === "string"
    ? encoder.encode(password)
    : password;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, [
      "deriveBits",
    ]);
  } finally {
    // importKey copies the bytes; wipe our copy of an encoded password.
    if (secret !== password) secret.fill(0);
  }
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations },
    key,
    512,
  );
  const all = new Uint8Array(bits);
  const tail = all.slice(32);
  all.fill(0);
  return tail;
}

/**
 * The hashword: lower-case hex of the last 32 bytes of
 * PBKDF2-HMAC-SHA256(`password`, salt = `username`, `iterations`, 64 bytes),
 * returned as the bytes of that 64-character ASCII text (so it can be wiped).
 */
export async function deriveHashword(
  username: string,
  password: string,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const tail = await pbkdf2Tail(password, username, iterations);
  const hashword = encoder.encode(bytesToHex(tail));
  tail.fill(0);
  return hashword;
}

/**
 * The private key for repo `name`: the last 32 bytes of
 * PBKDF2-HMAC-SHA256(password = hashword text, salt = `name`, `iterations`,
 * 64 bytes).
 */
export function derivePrivateKey(
  hashword: Uint8Array<ArrayBuffer>,
  name: string,
  iterations: number,
): Promise<Uint8Array> {
  return pbkdf2Tail(hashword, name, iterations);
}
