/**
 * The Deno KV driver: verified ranges as KV entries, on a local KV file,
 * `":memory:"`, or any `Deno.Kv` the caller opened.
 *
 * Layout (`prefix` defaults to `["streamo"]`):
 * - `[...prefix, "repo", key, offset]` → a *piece*: whole chunks,
 *   concatenated, starting at stream offset `offset` (at most
 *   `maxPieceBytes`, default 60 KiB, under KV's 64 KiB value limit). Keys
 *   sort by offset, so `kv.list` returns a stream in order.
 * - `[...prefix, "length", key]` → the stored stream length (a number): the
 *   commit point. Pieces at or beyond it are ignored.
 *
 * An append is one atomic operation that checks the length entry's
 * versionstamp (so concurrent writers, even in other processes, cannot
 * interleave), writes the pieces and the new length. A range too large for
 * one atomic operation (KV allows 1,000 mutations and 800 KiB per
 * operation) is written as several, the last of which sets the length: a
 * crash in between leaves the old length, and the orphaned pieces are
 * ignored on load and deleted by the next append.
 *
 * **Durability:** `append` resolves once KV committed the operation, which
 * then survives the process being killed; fsync behaviour on power loss is
 * Deno KV's (SQLite's). `flush` waits for pending appends.
 *
 * @module
 */

import { checkChunkWidth, isSignatureChunk } from "./checker.ts";
import { checkRepoKey, shortKey } from "./keys.ts";
import { packPieces, type Piece, readPieces } from "./pieces.ts";
import type { StorageDriver } from "./types.ts";

/** Default piece size: 60 KiB, below Deno KV's 64 KiB value limit. */
export const DEFAULT_KV_PIECE_BYTES = 60 * 1024;

/** Deno KV's value size limit. */
export const KV_MAX_VALUE_BYTES = 65536;

// Deno KV's per-atomic-operation limits, with room to spare.
const MAX_MUTATIONS = 900;
const MAX_OPERATION_BYTES = 760 * 1024;
// Attempts of an append while another connection holds the write lock.
const LOCK_RETRIES = 50;

/** Options for {@linkcode KvStorage}. */
export interface KvStorageOptions {
  /** Key prefix of every entry (default `["streamo"]`). */
  prefix?: Deno.KvKey;
  /** Largest piece value, in bytes (default 60 KiB, at most 65,536). */
  maxPieceBytes?: number;
}

type Mutation =
  | { type: "set"; key: Deno.KvKey; value: unknown; size: number }
  | { type: "delete"; key: Deno.KvKey; size: number };

function keySize(key: Deno.KvKey): number {
  let size = 8;
  for (const part of key) {
    size += typeof part === "string"
      ? part.length * 3 + 2
      : part instanceof Uint8Array
      ? part.length + 2
      : 10;
  }
  return size;
}

/**
 * Verified streams in Deno KV. See the module documentation for the layout
 * and durability.
 *
 * @example
 * ```ts
 * import { openKvStorage } from "./kv_storage.deno.ts";
 * import { loadInto } from "./load.ts";
 * import { Repo, Signer } from "../mod.ts";
 *
 * const repo = new Repo();
 * await repo.attachSigner(new Signer("alice", "pw", 1), "chat");
 * repo.set({ name: "alice" });
 * await repo.whenSigned();
 *
 * const storage = await openKvStorage(":memory:");
 * await storage.append(repo.key!, 0, repo.chunksBetween(0));
 * const copy = new Repo({ key: repo.key });
 * loadInto(copy, await storage.load(repo.key!));
 * await storage.close();
 * console.log(copy.get("name")); // "alice"
 * ```
 */
export class KvStorage implements StorageDriver {
  /** `"kv"`. */
  readonly name = "kv";
  /** The KV store. */
  readonly kv: Deno.Kv;
  readonly #prefix: Deno.KvKey;
  readonly #pieceBytes: number;
  readonly #ownsKv: boolean;
  readonly #queues = new Map<string, Promise<unknown>>();
  #closed = false;

  /**
   * Stores streams in `kv`. `ownsKv` makes `close()` close it too (as
   * {@linkcode openKvStorage} does for a path). Throws a
   * `TypeError`/`RangeError` for bad options.
   */
  constructor(kv: Deno.Kv, options: KvStorageOptions = {}, ownsKv = false) {
    if (
      kv === null || typeof kv !== "object" ||
      typeof (kv as Deno.Kv).atomic !== "function" ||
      typeof (kv as Deno.Kv).list !== "function"
    ) {
      throw new TypeError("Cannot create KvStorage: expected a Deno.Kv");
    }
    const prefix = options.prefix ?? ["streamo"];
    if (!Array.isArray(prefix)) {
      throw new TypeError(
        "Cannot create KvStorage: prefix must be an array of key parts",
      );
    }
    const pieceBytes = options.maxPieceBytes ?? DEFAULT_KV_PIECE_BYTES;
    if (
      !Number.isSafeInteger(pieceBytes) || pieceBytes < 69 ||
      pieceBytes > KV_MAX_VALUE_BYTES
    ) {
      throw new RangeError(
        `Cannot create KvStorage: maxPieceBytes must be an integer from 69 (the longest chunk) to ${KV_MAX_VALUE_BYTES}, got ${pieceBytes}`,
      );
    }
    this.kv = kv;
    this.#prefix = prefix;
    this.#pieceBytes = pieceBytes;
    this.#ownsKv = ownsKv;
  }

  #lengthKey(key: string): Deno.KvKey {
    return [...this.#prefix, "length", key];
  }

  #repoPrefix(key: string): Deno.KvKey {
    return [...this.#prefix, "repo", key];
  }

  /**
   * The stored chunks of `key` (views into the pieces), checked for
   * structure. KV appends are atomic, so there is no torn tail: anything
   * malformed (a gap or overlap between pieces, bytes that are not whole
   * codes, a bad address, a stream not ending with a SIGNATURE) throws a
   * {@linkcode StorageError} naming the entry and offset, whose `chunks` are
   * the readable prefix. Nothing is changed.
   */
  load(key: string): Promise<Uint8Array[]> {
    try {
      checkRepoKey(key, "load");
      return this.#serial(key, () => this.#load(key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #load(key: string): Promise<Uint8Array[]> {
    const entry = await this.kv.get<number>(this.#lengthKey(key));
    const length = entry.value ?? 0;
    if (length === 0) return [];
    const pieces: Piece[] = [];
    const list = this.kv.list<Uint8Array>(
      { prefix: this.#repoPrefix(key) },
      { batchSize: 500 },
    );
    for await (const piece of list) {
      const offset = piece.key[piece.key.length - 1];
      if (typeof offset !== "number" || offset >= length) break;
      pieces.push({ offset, bytes: piece.value });
    }
    return readPieces(pieces, length, {
      key,
      source: `Deno KV ${JSON.stringify(this.#repoPrefix(key))}`,
    });
  }

  /**
   * Appends a verified range (whole chunks ending with a SIGNATURE chunk)
   * at `offset`, which must equal the stored length; resolves once KV
   * committed it. Throws a `TypeError` for a bad key, a `RangeError` for an
   * empty range, a range not ending in a SIGNATURE, or an offset that is not
   * the stored length (also when another writer appended meanwhile), and a
   * `SyntaxError` for a malformed chunk.
   */
  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "append");
      const where = `for ${shortKey(key)}`;
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new RangeError(
          `Cannot append ${where}: offset must be a non-negative integer, got ${offset}`,
        );
      }
      if (!Array.isArray(chunks) || chunks.length === 0) {
        throw new RangeError(
          `Cannot append ${where} at ${offset}: the range is empty`,
        );
      }
      for (let i = 0; i < chunks.length; i++) {
        checkChunkWidth(chunks[i], `${i} of the range at ${offset} ${where}`);
      }
      if (!isSignatureChunk(chunks[chunks.length - 1])) {
        throw new RangeError(
          `Cannot append ${where} at ${offset}: the range does not end with a SIGNATURE chunk; only verified ranges are stored`,
        );
      }
      const pieces = packPieces(chunks, offset, this.#pieceBytes);
      return this.#serial(key, () => this.#appendRetrying(key, offset, pieces));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Another connection to the same KV file holding SQLite's write lock makes
   * an operation fail with "database is locked": wait and retry (the retry
   * re-reads the length, so a writer that lost the race gets a RangeError).
   */
  async #appendRetrying(
    key: string,
    offset: number,
    pieces: Piece[],
  ): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#append(key, offset, pieces);
      } catch (error) {
        if (
          attempt >= LOCK_RETRIES ||
          !/database is locked/i.test(String((error as Error)?.message))
        ) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 2));
      }
    }
  }

  async #append(key: string, offset: number, pieces: Piece[]): Promise<void> {
    const lengthKey = this.#lengthKey(key);
    const entry = await this.kv.get<number>(lengthKey);
    const stored = entry.value ?? 0;
    if (stored !== offset) {
      throw new RangeError(
        `Cannot append to ${
          shortKey(key)
        } at stream offset ${offset}: ${stored} bytes are stored, and a range must start where the stored bytes end`,
      );
    }
    const repoPrefix = this.#repoPrefix(key);
    const starts = new Set(pieces.map((piece) => piece.offset));
    const mutations: Mutation[] = [];
    // Pieces left at or beyond the length by an interrupted append.
    for await (
      const orphan of this.kv.list(
        { prefix: repoPrefix, start: [...repoPrefix, offset] },
        { batchSize: 500 },
      )
    ) {
      const at = orphan.key[orphan.key.length - 1];
      if (typeof at === "number" && starts.has(at)) continue;
      mutations.push({
        type: "delete",
        key: orphan.key,
        size: keySize(orphan.key),
      });
    }
    let end = offset;
    for (const piece of pieces) {
      const pieceKey = [...repoPrefix, piece.offset];
      mutations.push({
        type: "set",
        key: pieceKey,
        value: piece.bytes,
        size: keySize(pieceKey) + piece.bytes.length,
      });
      end = piece.offset + piece.bytes.length;
    }
    const lengthSize = keySize(lengthKey) + 16;
    const batches: Mutation[][] = [[]];
    let size = 0;
    for (const mutation of mutations) {
      const batch = batches[batches.length - 1];
      if (
        batch.length > 0 &&
        (batch.length + 2 > MAX_MUTATIONS ||
          size + mutation.size + lengthSize > MAX_OPERATION_BYTES)
      ) {
        batches.push([mutation]);
        size = mutation.size;
      } else {
        batch.push(mutation);
        size += mutation.size;
      }
    }
    for (let i = 0; i < batches.length; i++) {
      const op = this.kv.atomic().check(entry);
      for (const mutation of batches[i]) {
        if (mutation.type === "set") op.set(mutation.key, mutation.value);
        else op.delete(mutation.key);
      }
      if (i === batches.length - 1) op.set(lengthKey, end);
      const result = await op.commit();
      if (!result.ok) {
        const now = (await this.kv.get<number>(lengthKey)).value ?? 0;
        throw new RangeError(
          `Cannot append to ${
            shortKey(key)
          } at stream offset ${offset}: another writer changed the stored length meanwhile (now ${now} bytes); nothing of this range became visible`,
        );
      }
    }
  }

  /** Keys with stored bytes, sorted. */
  async keys(): Promise<string[]> {
    this.#checkOpen("list keys");
    const keys: string[] = [];
    const prefix = [...this.#prefix, "length"];
    for await (const entry of this.kv.list<number>({ prefix })) {
      const key = entry.key[entry.key.length - 1];
      if (typeof key === "string" && typeof entry.value === "number") {
        if (entry.value > 0) keys.push(key);
      }
    }
    return keys.sort();
  }

  /** Waits for pending appends (each is durable once committed). */
  async flush(): Promise<void> {
    this.#checkOpen("flush");
    await Promise.all(this.#queues.values());
  }

  /**
   * Waits for pending appends and closes the KV store if this driver opened
   * it; the driver is unusable afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#queues.values());
    if (this.#ownsKv) this.kv.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new Error(`Cannot ${what}: the KV storage is closed`);
    }
  }

  #serial<T>(key: string, op: () => Promise<T>): Promise<T> {
    this.#checkOpen(`use the stored stream of ${shortKey(key)}`);
    const result = (this.#queues.get(key) ?? Promise.resolve()).then(op);
    const settled = result.then(() => {}, () => {});
    this.#queues.set(key, settled);
    settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return result;
  }
}

/**
 * Opens a {@linkcode KvStorage}: on a path (a local KV file, created if
 * missing), `":memory:"`, or an existing `Deno.Kv` (then `close()` leaves it
 * open). With no argument, Deno's default KV location.
 */
export async function openKvStorage(
  kv?: string | Deno.Kv,
  options: KvStorageOptions = {},
): Promise<KvStorage> {
  if (kv === undefined || typeof kv === "string") {
    const opened = await Deno.openKv(kv);
    try {
      return new KvStorage(opened, options, true);
    } catch (error) {
      opened.close();
      throw error;
    }
  }
  return new KvStorage(kv, options, false);
}
