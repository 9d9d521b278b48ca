/**
 * Signed-only ingest (SPEC §4 "Ours"): bytes from a peer are held pending
 * and appended only when a SIGNATURE arrives that starts at the right
 * address, verifies under the repo's key and follows a well-formed commit
 * record.
 *
 * @module
 */

import { sha256 } from "../identity/sha256.ts";
import { isSignatureFooter, SIGNATURE } from "../codec/footers.ts";
import { FrameParser } from "../codec/frames.ts";
import { hexToBytes } from "../codec/hex.ts";
import { readUint } from "../codec/varint.ts";
import {
  codeWidth,
  MAX_CHUNK_LENGTH,
  SIGNATURE_BYTES,
} from "../codec/width.ts";
import { ForkError, SignatureError } from "../errors.ts";
import { getBackend } from "../identity/secp256k1.ts";
import type { Repo } from "./repo.ts";

/** Default bound on bytes held pending before a signature arrives: 1 MiB. */
export const DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;

/** Options for {@linkcode Ingest}. */
export interface IngestOptions {
  /** Most bytes held pending before a signature (default 1 MiB). */
  maxPendingBytes?: number;
  /**
   * Longest frame accepted (default {@linkcode MAX_CHUNK_LENGTH}: no
   * well-formed chunk is longer).
   */
  maxFrameLength?: number;
  /** Offset in the repo's stream of the first byte the peer sends (default 0). */
  from?: number;
}

function short(key: string): string {
  return key.slice(0, 8) + "…";
}

/**
 * Accepts a peer's chunk frames for one repo. Chunks the repo already has
 * must match it byte for byte (else `ForkError`); new chunks stay pending
 * until a SIGNATURE verifies them, and then are appended as one range.
 * Malformed input throws `SyntaxError`/`RangeError`, a bad signature
 * `SignatureError`; after any error nothing pending is kept and the ingest
 * refuses further input (make a new one to resume).
 *
 * @example
 * ```ts
 * import { encodeFrames, Ingest, Repo, Signer } from "@streamo/streamo";
 * const writer = new Repo();
 * await writer.attachSigner(new Signer("alice", "pw", 1), "chat");
 * writer.set({ name: "alice" });
 * await writer.whenSigned();
 * const copy = new Repo({ key: writer.key });
 * new Ingest(copy).write(encodeFrames(writer.chunksBetween(0)));
 * console.log(copy.get("name")); // "alice"
 * ```
 */
export class Ingest {
  readonly #repo: Repo;
  readonly #key: Uint8Array;
  readonly #keyHex: string;
  readonly #maxPending: number;
  readonly #parser: FrameParser;
  #cursor: number;
  // Pending chunks laid end to end; #ends holds their exclusive ends.
  #arena = new Uint8Array(4096);
  #pendingBytes = 0;
  #ends: number[] = [];
  #failed: Error | undefined;
  readonly #sink = (buf: Uint8Array, start: number, end: number): void =>
    this.#chunk(buf, start, end);

  /** Ingests into `repo`, whose `key` must be set. */
  constructor(repo: Repo, options: IngestOptions = {}) {
    if (repo.key === undefined) {
      throw new TypeError(
        "Cannot ingest: the repo has no key to verify against",
      );
    }
    this.#repo = repo;
    this.#keyHex = repo.key;
    this.#key = hexToBytes(repo.key);
    this.#maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#parser = new FrameParser(options.maxFrameLength ?? MAX_CHUNK_LENGTH);
    this.#cursor = options.from ?? 0;
    if (!Number.isSafeInteger(this.#cursor) || this.#cursor < 0) {
      throw new RangeError(`Cannot ingest from offset ${options.from}`);
    }
  }

  /** Stream offset of the next chunk expected from the peer. */
  get offset(): number {
    return this.#cursor;
  }

  /** Bytes received and waiting for a signature. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** The error that stopped this ingest, if any. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /**
   * Feeds frame bytes, split anywhere. Returns how many bytes were verified
   * and appended to the repo by this call.
   */
  write(bytes: Uint8Array): number {
    this.#check();
    const before = this.#repo.byteLength;
    try {
      this.#parser.pushEach(bytes, this.#sink);
    } catch (error) {
      throw this.#fail(error as Error);
    }
    return this.#repo.byteLength - before;
  }

  /** Feeds whole chunks (already unframed). Returns bytes appended. */
  writeChunks(chunks: readonly Uint8Array[]): number {
    this.#check();
    const before = this.#repo.byteLength;
    try {
      for (const chunk of chunks) this.#chunk(chunk, 0, chunk.length);
    } catch (error) {
      throw this.#fail(error as Error);
    }
    return this.#repo.byteLength - before;
  }

  /**
   * Declares the peer's input finished. Throws a `SyntaxError` if it ended
   * inside a frame and a `SignatureError` if chunks are left without a
   * signature (they are dropped either way).
   */
  end(): void {
    this.#check();
    if (!this.#parser.idle) {
      throw this.#fail(
        new SyntaxError(
          `Input for ${
            short(this.#keyHex)
          } ended inside a frame (truncated frame)`,
        ),
      );
    }
    this.#settle();
    if (this.#pendingBytes > 0) {
      throw this.#fail(
        new SignatureError(
          `Input for ${
            short(this.#keyHex)
          } ended with ${this.#pendingBytes} unsigned bytes; they were dropped`,
          { offset: this.#cursor - this.#pendingBytes },
        ),
      );
    }
  }

  /** A `WritableStream` of frame bytes feeding this ingest. */
  get writable(): WritableStream<Uint8Array> {
    return new WritableStream({
      write: (bytes) => void this.write(bytes),
      close: () => this.end(),
    });
  }

  #check(): void {
    if (this.#failed) {
      throw new Error(
        `Cannot ingest for ${
          short(this.#keyHex)
        }: it stopped after an earlier error`,
        { cause: this.#failed },
      );
    }
  }

  #fail(error: Error): Error {
    this.#failed = error;
    this.#clear();
    return error;
  }

  #clear(): void {
    this.#pendingBytes = 0;
    this.#ends = [];
    if (this.#arena.length > 65536) this.#arena = new Uint8Array(4096);
  }

  #chunk(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0 || n > MAX_CHUNK_LENGTH) {
      throw new RangeError(
        `Cannot ingest chunk at ${this.#cursor} for ${
          short(this.#keyHex)
        }: ${n} bytes is not a chunk length`,
      );
    }
    if (this.#pendingBytes > 0) this.#settle();
    const at = this.#cursor;
    const stored = this.#repo.byteLength;
    if (at < stored) {
      this.#matchStored(buf, start, end, at);
      this.#cursor += n;
      return;
    }
    const used = this.#pendingBytes;
    if (at !== stored + used) {
      throw new RangeError(
        `Cannot ingest chunk at ${at} for ${
          short(this.#keyHex)
        }: the repo has ${stored} bytes, so bytes are missing before it`,
      );
    }
    if (used + n > this.#maxPending) {
      throw new RangeError(
        `Cannot ingest for ${
          short(this.#keyHex)
        }: more than ${this.#maxPending} bytes arrived without a signature`,
      );
    }
    if (used + n > this.#arena.length) {
      const arena = new Uint8Array(Math.max(this.#arena.length * 2, used + n));
      arena.set(this.#arena.subarray(0, used));
      this.#arena = arena;
    }
    // Chunks are tiny: a loop beats making a subarray view for `set`.
    const arena = this.#arena;
    for (let i = 0; i < n; i++) arena[used + i] = buf[start + i];
    this.#pendingBytes = used + n;
    this.#ends.push(used + n);
    this.#cursor += n;
    if (isSignatureFooter(buf[end - 1])) this.#verify(at, n);
  }

  /** Drops pending chunks the repo got meanwhile (they must match). */
  #settle(): void {
    const stored = this.#repo.byteLength;
    const pendingStart = this.#cursor - this.#pendingBytes;
    if (pendingStart >= stored) return;
    let drop = 0;
    let i = 0;
    while (i < this.#ends.length && pendingStart + drop < stored) {
      this.#matchStored(this.#arena, drop, this.#ends[i], pendingStart + drop);
      drop = this.#ends[i++];
    }
    this.#arena.copyWithin(0, drop, this.#pendingBytes);
    this.#pendingBytes -= drop;
    this.#ends = this.#ends.slice(i).map((e) => e - drop);
  }

  #matchStored(buf: Uint8Array, start: number, end: number, at: number): void {
    const n = end - start;
    const stored = this.#repo.byteLength;
    let same = at + n <= stored && this.#repo.isChunkBoundary(at) &&
      this.#repo.isChunkBoundary(at + n);
    if (same) {
      const mine = this.#repo.view(at, at + n);
      for (let i = 0; i < n; i++) {
        if (mine[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
    }
    if (!same) {
      throw new ForkError(
        `Cannot ingest chunk at ${at} for ${
          short(this.#keyHex)
        }: it differs from the chunk already stored there (a fork)`,
        { offset: at },
      );
    }
  }

  #verify(signatureStart: number, n: number): void {
    const where = `signature at ${signatureStart} for ${short(this.#keyHex)}`;
    const chunk = this.#arena.subarray(
      this.#pendingBytes - n,
      this.#pendingBytes,
    );
    if (codeWidth(chunk, n - 1) !== n) {
      throw new SyntaxError(`Cannot verify ${where}: the chunk is malformed`);
    }
    const addressWidth = chunk[n - 1] - SIGNATURE + 1;
    const from = readUint(chunk, 0, addressWidth);
    const expected = Math.max(0, this.#repo.lastSignatureStart);
    if (from !== expected) {
      throw new SignatureError(
        `Cannot verify ${where}: it covers bytes from ${from}, but the previous signature starts at ${expected}`,
        { offset: signatureStart },
      );
    }
    const signature = chunk.slice(addressWidth, addressWidth + SIGNATURE_BYTES);
    const repo = this.#repo;
    const pending = this.#pendingBytes;
    repo.appendSpan(this.#arena, this.#ends, () => {
      if (!repo.commitAt(signatureStart - 1)) {
        throw new SignatureError(
          `Cannot verify ${where}: the chunk before it is not a well-formed commit record`,
          { offset: signatureStart },
        );
      }
      const hash = sha256(repo.view(from, signatureStart - 1));
      if (!getBackend().verify(signature, hash, this.#key)) {
        throw new SignatureError(
          `Cannot append ${pending} bytes at ${
            signatureStart + n - pending
          }: signature does not verify for key ${short(this.#keyHex)}`,
          { offset: signatureStart },
        );
      }
    });
    this.#clear();
  }
}
