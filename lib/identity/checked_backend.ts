/**
 * The input checks every secp256k1 backend shares, around a library's raw
 * operations.
 *
 * @module
 */

import { assertBytes, isBytes } from "./bytes.ts";
import type { Secp256k1Backend } from "./secp256k1.ts";

/** A secp256k1 library's operations, called only with checked input. */
export interface RawSecp256k1 {
  /** Short name of the implementation, e.g. `"noble"`. */
  readonly name: string;
  /** Whether a 32-byte private key is in `[1, n − 1]`. */
  isPrivateKey(privateKey: Uint8Array): boolean;
  /** The compressed public key of a valid private key. */
  getPublicKey(privateKey: Uint8Array): Uint8Array;
  /** The compact low-S RFC 6979 signature of a 32-byte hash. */
  sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /** Whether a 64-byte low-S signature verifies; may throw on bad input. */
  verify(
    signature: Uint8Array,
    hash: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
}

/**
 * `raw` as a {@link Secp256k1Backend}: wrong-length or out-of-range input
 * throws a `TypeError`/`RangeError` from `getPublicKey` and `sign`, and makes
 * `verify` return `false` (as does anything `raw.verify` throws).
 */
export function checkedBackend(raw: RawSecp256k1): Secp256k1Backend {
  const assertPrivateKey = (privateKey: Uint8Array): void => {
    assertBytes(privateKey, 32, "secp256k1 private key");
    if (!raw.isPrivateKey(privateKey)) {
      throw new RangeError(
        "secp256k1 private key is out of range: it must be in [1, n - 1]",
      );
    }
  };
  return {
    name: raw.name,
    getPublicKey(privateKey: Uint8Array): Uint8Array {
      assertPrivateKey(privateKey);
      return raw.getPublicKey(privateKey);
    },
    sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
      assertBytes(hash, 32, "message hash");
      assertPrivateKey(privateKey);
      return raw.sign(hash, privateKey);
    },
    verify(
      signature: Uint8Array,
      hash: Uint8Array,
      publicKey: Uint8Array,
    ): boolean {
      if (
        !isBytes(signature, 64) || !isBytes(hash, 32) ||
        !isBytes(publicKey, 33)
      ) return false;
      try {
        return raw.verify(signature, hash, publicKey);
      } catch {
        return false;
      }
    },
  };
}
