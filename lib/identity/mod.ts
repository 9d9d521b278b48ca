/**
 * Identity and signatures (SPEC §4): keypairs derived from a username and
 * password, compact secp256k1 ECDSA signatures over SHA-256, and a choice of
 * secp256k1 implementation.
 *
 * Everything here runs in browsers with the default pure-JavaScript backend.
 * A server may call {@link useFastestBackend} to switch to libsecp256k1
 * (Node-API addon, or WebAssembly) when it loads.
 *
 * @example
 * ```ts
 * import { Signer, verifySignature } from "@streamo/streamo";
 *
 * const signer = new Signer("alice", "pw", 1);
 * const bytes = new TextEncoder().encode("hello");
 * const signature = await signer.sign("chat", bytes);
 * const { publicKey } = await signer.keysFor("chat");
 * console.log(verifySignature(publicKey, bytes, signature)); // true
 * ```
 *
 * @module
 */

export {
  type KeyPair,
  Signer,
  type SignerOptions,
  verifySignature,
} from "./signer.ts";
export {
  isPublicKey,
  PUBLIC_KEY_LENGTH,
  publicKeyFromHex,
  publicKeyToHex,
  SIGNATURE_LENGTH,
} from "./keys.ts";
export {
  type BackendChoice,
  type BackendFailure,
  getBackend,
  resetBackend,
  type Secp256k1Backend,
  selfTestBackend,
  setBackend,
  useFastestBackend,
} from "./secp256k1.ts";
export { nobleBackend } from "./secp256k1_noble.ts";
export {
  resetSha256,
  setSha256,
  type Sha256,
  sha256,
  sha256Name,
} from "./sha256.ts";
