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

import { assertBytes, isBytes } from "./bytes.ts";
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
  const assertPrivateKey = (privateKey: Uint8Array): void => {
    assertBytes(privateKey, 32, "secp256k1 private key");
    if (!tiny.isPrivate(privateKey)) {
      throw new RangeError(
        "secp256k1 private key is out of range: it must be in [1, n - 1]",
      );
    }
  };
  return {
    name: "tiny-secp256k1",
    getPublicKey(privateKey: Uint8Array): Uint8Array {
      assertPrivateKey(privateKey);
      const publicKey = tiny.pointFromScalar(privateKey, true);
      if (publicKey === null) {
        throw new RangeError("secp256k1 private key has no public key");
      }
      return publicKey;
    },
    sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
      assertBytes(hash, 32, "message hash");
      assertPrivateKey(privateKey);
      // No extra entropy: libsecp256k1's default RFC 6979 nonce; it always
      // produces low-S signatures.
      return tiny.sign(hash, privateKey);
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
        // strict = true rejects high-S signatures instead of normalising them.
        return tiny.verify(hash, publicKey, signature, true);
      } catch {
        return false;
      }
    },
  };
}
