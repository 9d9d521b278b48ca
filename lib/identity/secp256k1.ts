/**
 * The secp256k1 operations streamo needs, behind one small interface, and the
 * choice of which implementation is active.
 *
 * The default backend is {@link nobleBackend} (pure JavaScript, runs in
 * browsers). A server can switch to a faster one with
 * {@link useFastestBackend}; the alternatives are loaded with dynamic
 * `import()` so a browser bundle never needs them.
 *
 * Every backend must produce byte-identical results: compressed 33-byte public
 * keys, and compact 64-byte `r‖s` ECDSA signatures with low S and an
 * RFC 6979 deterministic nonce. Verification accepts only low-S signatures.
 *
 * @module
 */

import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { nobleBackend } from "./secp256k1_noble.ts";
import { setSha256 } from "./sha256.ts";

/**
 * One implementation of secp256k1 ECDSA. All methods are synchronous so that
 * verification can run on a hot ingest path.
 */
export interface Secp256k1Backend {
  /** Short name of the implementation, e.g. `"noble"`. */
  readonly name: string;
  /**
   * The 33-byte compressed public key (`02`/`03` prefix) of a 32-byte private
   * key. Throws a `TypeError`/`RangeError` for a private key that is not 32
   * bytes or not in `[1, n − 1]`.
   */
  getPublicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * The 64-byte compact signature `r‖s` (low S, RFC 6979 deterministic nonce)
   * of a 32-byte message hash. Throws a `TypeError`/`RangeError` for a hash or
   * private key of the wrong length or an invalid private key.
   */
  sign(hash: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /**
   * Whether `signature` (64-byte compact, low S) signs the 32-byte `hash`
   * under the 33-byte compressed `publicKey`. Never throws: returns `false`
   * for malformed or wrong-length input.
   */
  verify(
    signature: Uint8Array,
    hash: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
}

/** Why a backend could not be used. */
export interface BackendFailure {
  /** Name of the backend that was tried. */
  readonly name: string;
  /** What went wrong, including what the runtime would need to load it. */
  readonly reason: string;
}

/** Outcome of {@link useFastestBackend}. */
export interface BackendChoice {
  /** The backend now active. */
  readonly backend: Secp256k1Backend;
  /** Faster backends that were tried and could not be used, in order. */
  readonly failures: readonly BackendFailure[];
}

let active: Secp256k1Backend = nobleBackend;

/** The backend used when no other one is given. Starts as {@link nobleBackend}. */
export function getBackend(): Secp256k1Backend {
  return active;
}

/**
 * Makes `backend` the active one, after checking that it agrees byte for byte
 * with the reference behaviour (see {@link selfTestBackend}). Throws an `Error`
 * naming the backend and the failed check if it does not.
 */
export function setBackend(backend: Secp256k1Backend): void {
  selfTestBackend(backend);
  active = backend;
}

/** Restores the default pure-JavaScript backend. */
export function resetBackend(): void {
  active = nobleBackend;
}

// Known answer: private key 0x07…07, hash 0x09…09 (checked against noble,
// tiny-secp256k1 and libsecp256k1).
const TEST_PUBLIC_KEY_HEX =
  "02989c0b76cb563971fdc9bef31ec06c3560f3249d6ee9e5d83c57625596e05f6f";
const TEST_SIGNATURE_HEX =
  "7157050929571a762ab6e06207f74db146f165fead17acc7afe23000a091dc37" +
  "7b5faa50c021f3f9613f20531b8fc1a38744203a2f391c15e7b1455c3a296e4e";

/**
 * Checks that `backend` derives the expected public key, produces the expected
 * deterministic signature, verifies it, and rejects a modified or high-S
 * signature. Throws an `Error` that names the backend and the failed check.
 */
export function selfTestBackend(backend: Secp256k1Backend): void {
  // Made here, not at module level, so bundles that never self-test drop them.
  const privateKey = new Uint8Array(32).fill(7);
  const hash = new Uint8Array(32).fill(9);
  const fail = (what: string): never => {
    throw new Error(
      `secp256k1 backend "${backend.name}" failed its self-test: ${what}`,
    );
  };
  const publicKey = backend.getPublicKey(privateKey);
  if (bytesToHex(publicKey) !== TEST_PUBLIC_KEY_HEX) {
    fail(`public key ${bytesToHex(publicKey)} != ${TEST_PUBLIC_KEY_HEX}`);
  }
  const signature = backend.sign(hash, privateKey);
  if (bytesToHex(signature) !== TEST_SIGNATURE_HEX) {
    fail(`signature ${bytesToHex(signature)} != ${TEST_SIGNATURE_HEX}`);
  }
  if (!backend.verify(signature, hash, publicKey)) {
    fail("its own signature does not verify");
  }
  const flipped = signature.slice();
  flipped[10] ^= 1;
  if (backend.verify(flipped, hash, publicKey)) {
    fail("a signature with a flipped bit verifies");
  }
  if (backend.verify(highS(signature), hash, publicKey)) {
    fail("a high-S signature verifies (must be rejected as malleable)");
  }
  if (backend.verify(signature.subarray(0, 63), hash, publicKey)) {
    fail("a 63-byte signature verifies");
  }
}

/**
 * Tries the faster backends in order — the libsecp256k1 Node-API addon
 * (`npm:secp256k1`), then the WebAssembly build (`npm:tiny-secp256k1`) — and
 * activates the first that loads and passes {@link selfTestBackend}. If none
 * does, the current backend stays active. Never throws; the reasons for each
 * failure are returned.
 *
 * Under Deno the native addon needs `--allow-env --allow-read --allow-ffi`
 * and the WebAssembly build needs `--allow-read` (both: `-A`).
 */
export async function useFastestBackend(): Promise<BackendChoice> {
  const failures: BackendFailure[] = [];
  try {
    const { nativeSha256 } = await import("./sha256_native.node.ts");
    setSha256("node:crypto", nativeSha256);
  } catch (error) {
    failures.push({
      name: "node:crypto sha256",
      reason: error instanceof Error ? error.message : String(error),
    });
  }
  const candidates: [string, () => Promise<Secp256k1Backend>][] = [
    [
      "secp256k1-native",
      async () =>
        (await import("./secp256k1_native.node.ts")).loadNativeBackend(),
    ],
    [
      "tiny-secp256k1",
      async () => (await import("./secp256k1_wasm.ts")).loadWasmBackend(),
    ],
  ];
  for (const [name, load] of candidates) {
    try {
      const backend = await load();
      setBackend(backend);
      return { backend, failures };
    } catch (error) {
      failures.push({
        name,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { backend: active, failures };
}

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The same signature with `s` replaced by `n − s` (the malleable twin). */
export function highS(signature: Uint8Array): Uint8Array {
  const s = BigInt("0x" + bytesToHex(signature.subarray(32, 64)));
  const out = signature.slice();
  out.set(hexToBytes((N - s).toString(16).padStart(64, "0")), 32);
  return out;
}
