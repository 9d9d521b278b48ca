/**
 * Chat identities: the keypair derived from username + password (SPEC §4)
 * with progress reports for the UI, a signer over a stored private key (for
 * "remember this device"), and where a device keeps it.
 *
 * @module
 */

import { bytesToHex } from "../codec/hex.ts";
import { deriveHashword, derivePrivateKey } from "../identity/pbkdf2.ts";
import { getBackend } from "../identity/secp256k1.ts";
import type { RepoSigner } from "../store/repo.ts";

/** The least PBKDF2 iterations a deployment should use (the default). */
export const DEFAULT_KEY_ITERATIONS = 600_000;

/** A derived chat identity. */
export interface ChatIdentity {
  /** The username the key was derived from (the salt; not secret). */
  username: string;
  /** The repo name the key belongs to (`chat`). */
  name: string;
  /** The 32-byte private key. Keep it secret. */
  privateKey: Uint8Array;
  /** The repo key: hex of the 33-byte compressed public key. */
  key: string;
}

/** Progress of a key derivation, for a progress indicator. */
export interface DeriveProgress {
  /** Steps done: 0 at the start, 2 when the key is ready. */
  done: number;
  /** Steps in all (2: the hashword, then the repo key). */
  total: number;
  /** When the derivation started (`performance.now()` time). */
  startedAt: number;
  /** Estimated time for the whole derivation, in ms (from a short trial). */
  estimateMs: number;
}

/**
 * Derives the identity for repo `name` from `username` and `password` with
 * `iterations` PBKDF2 rounds per step, reporting progress. PBKDF2 runs in
 * WebCrypto, off the main thread in browsers. Throws a `RangeError` for an
 * empty username or password, or iterations that are not a positive integer.
 */
export async function deriveIdentity(
  username: string,
  password: string,
  iterations: number,
  name: string,
  onProgress?: (progress: DeriveProgress) => void,
): Promise<ChatIdentity> {
  // Not trimmed: every client must derive the same key from the same text.
  const user = username;
  if (!user.trim()) {
    throw new RangeError("Cannot sign in: the username is empty");
  }
  if (!password) throw new RangeError("Cannot sign in: the password is empty");
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(
      `Cannot sign in: the server announced ${iterations} key iterations, which is not a positive integer`,
    );
  }
  const startedAt = performance.now();
  // A short trial run calibrates the estimate the progress bar animates to.
  const trial = Math.min(iterations, 20_000);
  await deriveHashword("calibrate", "calibrate", trial);
  const trialMs = performance.now() - startedAt;
  const estimateMs = Math.max(1, (2 * iterations / trial) * trialMs);
  const report = (done: number) =>
    onProgress?.({ done, total: 2, startedAt, estimateMs });
  report(0);
  const hashword = await deriveHashword(user, password, iterations);
  report(1);
  let privateKey: Uint8Array;
  try {
    privateKey = await derivePrivateKey(hashword, name, iterations);
  } finally {
    hashword.fill(0);
  }
  const key = bytesToHex(getBackend().getPublicKey(privateKey));
  report(2);
  return { username: user, name, privateKey, key };
}

/**
 * A {@linkcode RepoSigner} over one stored private key: it signs only the
 * repo named `identity.name`. Lets a device that remembered its key sign
 * without the password.
 */
export class KeySigner implements RepoSigner {
  readonly #identity: ChatIdentity;

  /** Signs with `identity`'s private key. */
  constructor(identity: ChatIdentity) {
    this.#identity = identity;
  }

  /** The keypair of repo `name`; rejects for any repo but the identity's. */
  keysFor(
    name: string,
  ): Promise<{ privateKey: Uint8Array; publicKey: Uint8Array }> {
    if (name !== this.#identity.name) {
      return Promise.reject(
        new TypeError(
          `Cannot sign repo "${name}": this device only remembers the key of "${this.#identity.name}"`,
        ),
      );
    }
    const privateKey = this.#identity.privateKey.slice();
    return Promise.resolve({
      privateKey,
      publicKey: getBackend().getPublicKey(privateKey),
    });
  }
}

/** Where a device remembers an identity ("remember this device"). */
export interface IdentityStore {
  /** The remembered identity, if any. */
  load(): Promise<ChatIdentity | undefined>;
  /** Remembers `identity`, replacing any other. */
  save(identity: ChatIdentity): Promise<void>;
  /** Forgets the remembered identity. */
  clear(): Promise<void>;
}

/** An {@linkcode IdentityStore} in memory (tests; "don't remember"). */
export class MemoryIdentityStore implements IdentityStore {
  #identity: ChatIdentity | undefined;
  /** The remembered identity, if any. */
  load(): Promise<ChatIdentity | undefined> {
    return Promise.resolve(this.#identity);
  }
  /** Remembers `identity`. */
  save(identity: ChatIdentity): Promise<void> {
    this.#identity = { ...identity, privateKey: identity.privateKey.slice() };
    return Promise.resolve();
  }
  /** Forgets it. */
  clear(): Promise<void> {
    this.#identity = undefined;
    return Promise.resolve();
  }
}

/** Checks a value loaded from storage; `undefined` unless well-formed. */
export function parseStoredIdentity(value: unknown): ChatIdentity | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v.username !== "string" || typeof v.name !== "string" ||
    typeof v.key !== "string" || !(v.privateKey instanceof Uint8Array) ||
    v.privateKey.length !== 32
  ) return undefined;
  let key: string;
  try {
    key = bytesToHex(getBackend().getPublicKey(v.privateKey));
  } catch {
    return undefined;
  }
  if (key !== v.key) return undefined;
  return {
    username: v.username,
    name: v.name,
    privateKey: v.privateKey,
    key,
  };
}
