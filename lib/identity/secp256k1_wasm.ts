/**
 * secp256k1 backend on `tiny-secp256k1`: libsecp256k1 compiled to
 * WebAssembly. Loaded on demand by {@link loadWasmBackend}.
 *
 * Under Deno and Node the package reads its `.wasm` file with `node:fs`, so
 * Deno needs `--allow-read` (for its npm cache). Browser bundlers must support
 * importing `.wasm` files to use it there.
 *
 * @module
 */

import { checkedBackend } from "./checked_backend.ts";
import type { Secp256k1Backend } from "./secp256k1.ts";

/** The subset of `tiny-secp256k1` this backend calls. */
interface TinySecp256k1 {
  isPrivate(d: Uint8Array): boolean;
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null;
  sign(h: Uint8Array, d: Uint8Array): Uint8Array;
  verify(
    h: Uint8Array,
    q: Uint8Array,
    signature: Uint8Array,
    strict?: boolean,
  ): boolean;
}

/**
 * Loads `tiny-secp256k1` and wraps it as a {@link Secp256k1Backend}. Rejects
 * with an `Error` saying why when the module or its WebAssembly cannot load.
 */
export async function loadWasmBackend(): Promise<Secp256k1Backend> {
  let tiny: TinySecp256k1;
  try {
    tiny = await import("tiny-secp256k1") as TinySecp256k1;
  } catch (error) {
    throw new Error(
      `Cannot load the WebAssembly secp256k1 backend (npm:tiny-secp256k1): ${
        error instanceof Error ? error.message : String(error)
      }. Under Deno it needs --allow-read to read its .wasm file.`,
      { cause: error },
    );
  }
  return createWasmBackend(tiny);
}

function createWasmBackend(tiny: TinySecp256k1): Secp256k1Backend {
  return checkedBackend({
    name: "tiny-secp256k1",
    isPrivateKey: (privateKey) => tiny.isPrivate(privateKey),
    getPublicKey(privateKey) {
      const publicKey = tiny.pointFromScalar(privateKey, true);
      if (publicKey === null) {
        throw new RangeError("secp256k1 private key has no public key");
      }
      return publicKey;
    },
    // No extra entropy: libsecp256k1's default RFC 6979 nonce; it always
    // produces low-S signatures.
    sign: (hash, privateKey) => tiny.sign(hash, privateKey),
    // strict = true rejects high-S signatures instead of normalising them.
    verify: (signature, hash, publicKey) =>
      tiny.verify(hash, publicKey, signature, true),
  });
}
