/**
 * Public keys as bytes and as the 66-character hex text that names a repo.
 *
 * @module
 */

import { bytesToHex } from "@noble/hashes/utils.js";
import { describe } from "./bytes.ts";

/** Length in bytes of a compressed secp256k1 public key. */
export const PUBLIC_KEY_LENGTH = 33;

/** Length in bytes of a compact (`r‖s`) ECDSA signature. */
export const SIGNATURE_LENGTH = 64;

/**
 * Whether `value` has the shape of a compressed secp256k1 public key: a
 * 33-byte `Uint8Array` starting with `02` or `03`. It does not check that the
 * point is on the curve (verification does).
 *
 * @example
 * ```ts
 * import { isPublicKey } from "@streamo/streamo";
 * console.log(isPublicKey(new Uint8Array(33).fill(2))); // true
 * ```
 */
export function isPublicKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && hasPublicKeyShape(value);
}

function hasPublicKeyShape(bytes: Uint8Array): boolean {
  return bytes.length === PUBLIC_KEY_LENGTH &&
    (bytes[0] === 2 || bytes[0] === 3);
}

/**
 * Lower-case hex of a compressed public key: the repo's key on the wire and in
 * URLs. Throws a `TypeError` for a non-`Uint8Array` and a `RangeError` for
 * anything that is not 33 bytes starting with `02`/`03`.
 *
 * @example
 * ```ts
 * import { publicKeyToHex } from "@streamo/streamo";
 * const key = new Uint8Array(33).fill(3);
 * console.log(publicKeyToHex(key).length); // 66
 * ```
 */
export function publicKeyToHex(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot hex-encode public key: expected a Uint8Array, got ${
        describe(publicKey)
      }`,
    );
  }
  if (!hasPublicKeyShape(publicKey)) {
    throw new RangeError(
      `Cannot hex-encode public key: expected 33 bytes starting with 02 or 03, got ${publicKey.length} bytes starting with ${
        publicKey.length
          ? publicKey[0].toString(16).padStart(2, "0")
          : "nothing"
      }`,
    );
  }
  return bytesToHex(publicKey);
}

const KEY_HEX = /^0[23][0-9a-fA-F]{64}$/;

/**
 * Bytes of a 66-character hex public key (either case). Throws a `TypeError`
 * for a non-string and a `SyntaxError` for text that is not `02`/`03`
 * followed by 64 hex digits.
 *
 * @example
 * ```ts
 * import { publicKeyFromHex } from "@streamo/streamo";
 * const key = publicKeyFromHex("02" + "ab".repeat(32));
 * console.log(key.length); // 33
 * ```
 */
export function publicKeyFromHex(hex: string): Uint8Array {
  if (typeof hex !== "string") {
    throw new TypeError(
      `Cannot parse public key: expected a hex string, got ${describe(hex)}`,
    );
  }
  if (!KEY_HEX.test(hex)) {
    throw new SyntaxError(
      `Cannot parse public key: expected 66 hex digits starting with 02 or 03, got ${
        hex.length > 80 ? `${hex.length} characters` : JSON.stringify(hex)
      }`,
    );
  }
  const out = new Uint8Array(PUBLIC_KEY_LENGTH);
  for (let i = 0; i < PUBLIC_KEY_LENGTH; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}
