/**
 * Password-derived identities: {@link Signer} derives one secp256k1 keypair
 * per repo name from a username and password (SPEC §4) and signs with it;
 * {@link verifySignature} checks a signature against a public key.
 *
 * @module
 */

import { sha256 } from "./sha256.ts";
import { describe, isBytes } from "./bytes.ts";
import { PUBLIC_KEY_LENGTH, publicKeyToHex, SIGNATURE_LENGTH } from "./keys.ts";
import { deriveHashword, derivePrivateKey, MAX_ITERATIONS } from "./pbkdf2.ts";
import { getBackend, type Secp256k1Backend } from "./secp256k1.ts";

/** A repo's keypair. */
export interface KeyPair {
  /** The 32-byte secp256k1 private key. Keep it secret. */
  readonly privateKey: Uint8Array;
  /** The 33-byte compressed public key (`02`/`03` prefix): the repo's key. */
  readonly publicKey: Uint8Array;
}

/** Options for {@link Signer}. */
export interface SignerOptions {
  /**
   * The secp256k1 implementation to use. Defaults to the active backend at the
   * time of each call (see `getBackend`).
   */
  readonly backend?: Secp256k1Backend;
}

/**
 * Derives keypairs from a username and password and signs bytes with them.
 *
 * The password is used once, at construction, to start deriving the hashword
 * (PBKDF2 with `iterations` rounds); the `Signer` does not keep it. Each repo
 * name gets its own keypair, derived once on first use and cached. Signatures
 * are compact 64-byte `r‖s` ECDSA over SHA-256 of the bytes, low S,
 * RFC 6979 deterministic: the same inputs always give the same signature.
 *
 * @example
 * ```ts
 * import { Signer, verifySignature } from "@streamo/streamo";
 *
 * // Real deployments use ≥ 600,000 iterations; 1 keeps the example fast.
 * const signer = new Signer("alice", "pw", 1);
 * const { publicKey } = await signer.keysFor("chat");
 * const bytes = new TextEncoder().encode("hello streamo");
 * const signature = await signer.sign("chat", bytes);
 * console.log(signature.length); // 64
 * console.log(verifySignature(publicKey, bytes, signature)); // true
 * ```
 */
export class Signer {
  /** The username: the salt of the hashword derivation. */
  readonly username: string;
  /** PBKDF2 iterations, used for both derivation steps. */
  readonly iterations: number;
  readonly #backend: Secp256k1Backend | undefined;
  readonly #hashword: Promise<Uint8Array<ArrayBuffer>>;
  readonly #keys = new Map<string, Promise<KeyPair>>();

  /**
   * Starts deriving the hashword from `password`. Throws a `TypeError` if
   * `username` or `password` is not a string and a `RangeError` if
   * `iterations` is not an integer in `[1, 4294967295]`.
   */
  constructor(
    username: string,
    password: string,
    iterations: number,
    options: SignerOptions = {},
  ) {
    assertString(username, "username");
    assertString(password, "password");
    if (
      typeof iterations !== "number" || !Number.isInteger(iterations) ||
      iterations < 1 || iterations > MAX_ITERATIONS
    ) {
      throw new RangeError(
        `Cannot create Signer: iterations must be an integer from 1 to ${MAX_ITERATIONS}, got ${
          typeof iterations === "number" ? iterations : describe(iterations)
        }`,
      );
    }
    this.username = username;
    this.iterations = iterations;
    this.#backend = options.backend;
    this.#hashword = deriveHashword(username, password, iterations);
    // A failure surfaces from keysFor(); don't report it as unhandled here.
    this.#hashword.catch(() => {});
  }

  /**
   * The keypair for repo `name`, derived on first use and cached; concurrent
   * calls for one name share a single derivation. Each call returns fresh
   * copies of the key bytes. Rejects with a `TypeError` if `name` is not a
   * string.
   */
  async keysFor(name: string): Promise<KeyPair> {
    assertString(name, "name");
    const keys = await this.#keyPair(name);
    return {
      privateKey: keys.privateKey.slice(),
      publicKey: keys.publicKey.slice(),
    };
  }

  /**
   * Lower-case hex of repo `name`'s public key (66 characters): the repo's
   * key on the wire and in URLs. Rejects with a `TypeError` if `name` is not a
   * string.
   */
  async publicKeyHex(name: string): Promise<string> {
    assertString(name, "name");
    return publicKeyToHex((await this.#keyPair(name)).publicKey);
  }

  /**
   * The 64-byte compact signature of SHA-256(`bytes`) with the private key of
   * repo `name`. Rejects with a `TypeError` if `name` is not a string or
   * `bytes` is not a `Uint8Array`.
   */
  async sign(name: string, bytes: Uint8Array): Promise<Uint8Array> {
    assertString(name, "name");
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot sign: bytes must be a Uint8Array, got ${describe(bytes)}`,
      );
    }
    const hash = sha256(bytes);
    const keys = await this.#keyPair(name);
    return (this.#backend ?? getBackend()).sign(hash, keys.privateKey);
  }

  // The cached keypair itself (not a copy; never handed out), derived once.
  #keyPair(name: string): Promise<KeyPair> {
    const cached = this.#keys.get(name);
    if (cached !== undefined) return cached;
    const pending = this.#derive(name);
    this.#keys.set(name, pending);
    // Forget a failed derivation so a later call can retry.
    pending.catch(() => {
      if (this.#keys.get(name) === pending) this.#keys.delete(name);
    });
    return pending;
  }

  async #derive(name: string): Promise<KeyPair> {
    const hashword = await this.#hashword;
    const privateKey = await derivePrivateKey(hashword, name, this.iterations);
    let publicKey: Uint8Array;
    try {
      publicKey = (this.#backend ?? getBackend()).getPublicKey(privateKey);
    } catch (error) {
      throw new RangeError(
        `Cannot derive keys for "${name}": the derived private key is not a valid secp256k1 key`,
        { cause: error },
      );
    }
    return { privateKey, publicKey };
  }
}

/**
 * Whether `signature` is a valid signature by `publicKey` of SHA-256(`bytes`).
 * Synchronous, for hot paths. Returns `false` — never throws — when the
 * signature or key is not a `Uint8Array` of the right length (64 and 33
 * bytes), is malformed, or does not verify; high-S signatures are rejected.
 * Throws a `TypeError` only if `bytes` is not a `Uint8Array`.
 *
 * @param publicKey 33-byte compressed secp256k1 public key.
 * @param bytes The signed bytes (hashed here with SHA-256).
 * @param signature 64-byte compact `r‖s` signature.
 * @param backend Implementation to use; defaults to the active backend.
 *
 * @example
 * ```ts
 * import { Signer, verifySignature } from "@streamo/streamo";
 * const signer = new Signer("bob", "secret", 1);
 * const { publicKey } = await signer.keysFor("notes");
 * const bytes = new Uint8Array([1, 2, 3]);
 * const signature = await signer.sign("notes", bytes);
 * console.log(verifySignature(publicKey, bytes, signature)); // true
 * console.log(verifySignature(publicKey, new Uint8Array([1, 2]), signature)); // false
 * ```
 */
export function verifySignature(
  publicKey: Uint8Array,
  bytes: Uint8Array,
  signature: Uint8Array,
  backend: Secp256k1Backend = getBackend(),
): boolean {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot verify signature: bytes must be a Uint8Array, got ${
        describe(bytes)
      }`,
    );
  }
  if (
    !isBytes(signature, SIGNATURE_LENGTH) ||
    !isBytes(publicKey, PUBLIC_KEY_LENGTH)
  ) return false;
  return backend.verify(signature, sha256(bytes), publicKey);
}

function assertString(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot use ${what}: expected a string, got ${describe(value)}`,
    );
  }
}
