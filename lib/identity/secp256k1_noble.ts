/**
 * The default secp256k1 backend: `@noble/curves`, audited pure JavaScript that
 * runs in every runtime (browsers, Deno, Node, Bun).
 *
 * @module
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { assertBytes, isBytes } from "./bytes.ts";
import type { Secp256k1Backend } from "./secp256k1.ts";

// `prehash: false`: callers pass the SHA-256 digest themselves. `extraEntropy`
// stays off, so the nonce is the RFC 6979 deterministic one.
const SIGN_OPTIONS = { prehash: false, lowS: true, format: "compact" } as const;
const VERIFY_OPTIONS = {
  prehash: false,
  lowS: true,
  format: "compact",
} as const;

function assertPrivateKey(privateKey: Uint8Array): void {
  assertBytes(privateKey, 32, "secp256k1 private key");
  if (!secp256k1.utils.isValidSecretKey(privateKey)) {
    throw new RangeError(
      "secp256k1 private key is out of range: it must be in [1, n - 1]",
    );
  }
}

/** secp256k1 through `@noble/curves` (pure JavaScript, the default). */
export const nobleBackend: Secp256k1Backend = {
  name: "noble",
  getPublicKey(privateKey: Uint8Array): Uint8Array {
    assertPrivateKey(privateKey);
    return secp256k1.getPublicKey(privateKey, true);
  },
  sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
    assertBytes(hash, 32, "message hash");
    assertPrivateKey(privateKey);
    return secp256k1.sign(hash, privateKey, SIGN_OPTIONS);
  },
  verify(
    signature: Uint8Array,
    hash: Uint8Array,
    publicKey: Uint8Array,
  ): boolean {
    if (
      !isBytes(signature, 64) || !isBytes(hash, 32) || !isBytes(publicKey, 33)
    ) return false;
    try {
      return secp256k1.verify(signature, hash, publicKey, VERIFY_OPTIONS);
    } catch {
      return false;
    }
  },
};
