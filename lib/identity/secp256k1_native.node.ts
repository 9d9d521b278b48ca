/**
 * secp256k1 backend on the `secp256k1` npm package: libsecp256k1 through a
 * prebuilt Node-API addon (linux-x64, darwin-arm64, win32-x64). Server-side
 * only; loaded on demand by {@link loadNativeBackend}.
 *
 * Under Deno the addon loader (`node-gyp-build`) reads environment variables
 * and the package directory, and the addon is opened as a dynamic library, so
 * it needs `--allow-env --allow-read --allow-ffi` (or `-A`).
 *
 * The package's main entry silently falls back to a pure-JavaScript
 * `elliptic` implementation when the addon does not load; this backend
 * imports the addon binding directly so a failure is reported instead.
 *
 * @module
 */

import { checkedBackend } from "./checked_backend.ts";
import type { Secp256k1Backend } from "./secp256k1.ts";

/** The subset of the `secp256k1` package's API this backend calls. */
interface NativeSecp256k1 {
  privateKeyVerify(privateKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(
    hash: Uint8Array,
    privateKey: Uint8Array,
  ): { signature: Uint8Array; recid: number };
  ecdsaVerify(
    signature: Uint8Array,
    hash: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
}

/**
 * Loads the libsecp256k1 Node-API addon and wraps it as a
 * {@link Secp256k1Backend}. Rejects with an `Error` saying why when the addon
 * cannot load (missing permission, no prebuild for this platform, no Node-API
 * support in the runtime).
 */
export async function loadNativeBackend(): Promise<Secp256k1Backend> {
  let native: NativeSecp256k1;
  try {
    const module = await import("secp256k1/bindings.js");
    native = (module.default ?? module) as NativeSecp256k1;
  } catch (error) {
    throw new Error(
      `Cannot load the native secp256k1 backend (npm:secp256k1 Node-API addon): ${
        error instanceof Error ? error.message : String(error)
      }. Under Deno it needs --allow-env --allow-read --allow-ffi.`,
      { cause: error },
    );
  }
  return createNativeBackend(native);
}

function createNativeBackend(native: NativeSecp256k1): Secp256k1Backend {
  return checkedBackend({
    name: "secp256k1-native",
    isPrivateKey: (privateKey) => native.privateKeyVerify(privateKey),
    getPublicKey: (privateKey) => native.publicKeyCreate(privateKey, true),
    // Default nonce function: RFC 6979, no extra data; always low S.
    sign: (hash, privateKey) => native.ecdsaSign(hash, privateKey).signature,
    // libsecp256k1 rejects high-S signatures.
    verify: (signature, hash, publicKey) =>
      native.ecdsaVerify(signature, hash, publicKey),
  });
}
