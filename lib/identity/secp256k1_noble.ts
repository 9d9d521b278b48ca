/**
 * The default secp256k1 backend: `@noble/curves`, audited pure JavaScript that
 * runs in every runtime (browsers, Deno, Node, Bun).
 *
 * @module
 */

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { checkedBackend } from "./checked_backend.ts";
import type { Secp256k1Backend } from "./secp256k1.ts";

// `prehash: false`: callers pass the SHA-256 digest themselves. `extraEntropy`
// stays off, so the nonce is the RFC 6979 deterministic one.
const OPTIONS = { prehash: false, lowS: true, format: "compact" } as const;

/** secp256k1 through `@noble/curves` (pure JavaScript, the default). */
export const nobleBackend: Secp256k1Backend = checkedBackend({
  name: "noble",
  isPrivateKey: (privateKey) => secp256k1.utils.isValidSecretKey(privateKey),
  getPublicKey: (privateKey) => secp256k1.getPublicKey(privateKey, true),
  sign: (hash, privateKey) => secp256k1.sign(hash, privateKey, OPTIONS),
  verify: (signature, hash, publicKey) =>
    secp256k1.verify(signature, hash, publicKey, OPTIONS),
});
