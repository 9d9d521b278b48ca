/**
 * The IndexedDB driver (browsers): the same {@linkcode StorageDriver} as the
 * Deno drivers, with no Deno APIs.
 *
 * Layout, in one database (default name `"streamo"`):
 * - object store `ranges`: key `[repoKey, offset]` → a *piece* (Uint8Array
 *   of whole chunks, concatenated, starting at stream offset `offset`; at
 *   most `maxPieceBytes`, default 1 MiB). Array keys sort by repo key, then
 *   offset, so a key range returns a stream in order.
 * - object store `lengths`: key `repoKey` → the stored stream length (a
 *   number): the commit point. Pieces at or beyond it are ignored.
 *
 * An append is one `readwrite` transaction over both stores: it reads the
 * stored length, aborts unless it equals the range's offset, writes the
 * pieces and the new length. IndexedDB runs overlapping `readwrite`
 * transactions one at a time (also across tabs), so concurrent writers
 * cannot interleave, and a transaction is all-or-nothing, so there is no
 * torn tail.
 *
 * A `replace` (the tail a rebase rewrote) is one `readwrite` transaction
 * too: it reads the stored length and the piece holding the byte before
 * the offset, checks the offset, cuts that piece at the offset, deletes
 * every piece from the offset on, writes the new pieces and the new length.
 * It commits whole or not at all, so a crash leaves the old stream or the
 * new one.
 *
 * **Durability:** `append` resolves on the transaction's `complete` event.
 * Transactions are opened with `durability: "strict"` by default (the
 * browser flushes to disk before `complete`); pass `"relaxed"` to trade
 * that for speed (data then survives a tab crash but maybe not an OS
 * crash).
 *
 * @module
 */

import { checkRepoKey, shortKey } from "./keys.ts";
import { packPieces, type Piece, readPieces } from "./pieces.ts";
import {
  beyondStored,
  checkAppendRange,
  checkPieceBoundary,
  checkReplacement,
  replaceOffsetError,
} from "./replace.ts";
import { KeyedQueue } from "./queue.ts";
import type { StorageDriver } from "./types.ts";

/** Default piece size in IndexedDB: 1 MiB. */
export const DEFAULT_IDB_PIECE_BYTES = 1024 * 1024;

/** Version of the database schema this driver creates. */
export const IDB_SCHEMA_VERSION = 1;

const RANGES = "ranges";
const LENGTHS = "lengths";

/** The part of an `IDBRequest` this driver uses. */
export interface IdbRequestLike<T = unknown> {
  /** The result, once `onsuccess` fired. */
  readonly result: T;
  /** The error, once `onerror` fired. */
  readonly error: unknown;
  /** Success handler. */
  onsuccess: ((event: unknown) => void) | null;
  /** Error handler. */
  onerror: ((event: unknown) => void) | null;
}

/** The part of an `IDBObjectStore` this driver uses. */
export interface IdbObjectStoreLike {
  /** Reads one value. */
  get(key: unknown): IdbRequestLike;
  /** Reads values in a key range. */
  getAll(query?: unknown): IdbRequestLike<unknown[]>;
  /** Reads keys in a key range. */
  getAllKeys(query?: unknown): IdbRequestLike<unknown[]>;
  /** Writes a value under an out-of-line key. */
  put(value: unknown, key?: unknown): IdbRequestLike;
  /** Deletes a key or key range. */
  delete(query: unknown): IdbRequestLike;
}

/** The part of an `IDBTransaction` this driver uses. */
export interface IdbTransactionLike {
  /** An object store in the transaction's scope. */
  objectStore(name: string): IdbObjectStoreLike;
  /** Aborts the transaction. */
  abort(): void;
  /** The error that aborted it, if any. */
  readonly error: unknown;
  /** Fired when every request succeeded and the transaction committed. */
  oncomplete: ((event: unknown) => void) | null;
  /** Fired when the transaction failed. */
  onerror: ((event: unknown) => void) | null;
  /** Fired when the transaction was aborted. */
  onabort: ((event: unknown) => void) | null;
}

/** The part of an `IDBDatabase` this driver uses. */
export interface IdbDatabaseLike {
  /** Starts a transaction. */
  transaction(
    stores: string[],
    mode: "readonly" | "readwrite",
    options?: { durability?: "default" | "strict" | "relaxed" },
  ): IdbTransactionLike;
  /** Names of the object stores. */
  readonly objectStoreNames: { contains(name: string): boolean };
  /** Creates an object store (during an upgrade). */
  createObjectStore(name: string): unknown;
  /** Closes the connection. */
  close(): void;
}

/** The part of an `IDBFactory` (`indexedDB`) this driver uses. */
export interface IdbFactoryLike {
  /** Opens a database. */
  open(name: string, version?: number): IdbRequestLike<IdbDatabaseLike> & {
    onupgradeneeded: ((event: unknown) => void) | null;
    onblocked: ((event: unknown) => void) | null;
  };
}

/** The part of the `IDBKeyRange` class this driver uses. */
export interface IdbKeyRangeLike {
  /** A range between two keys. */
  bound(
    lower: unknown,
    upper: unknown,
    lowerOpen?: boolean,
    upperOpen?: boolean,
  ): unknown;
}

/** Options for {@linkcode IdbStorage} and {@linkcode openIdbStorage}. */
export interface IdbStorageOptions {
  /** Transaction durability for appends (default `"strict"`). */
  durability?: "strict" | "relaxed" | "default";
  /** Largest piece value, in bytes (default 1 MiB). */
  maxPieceBytes?: number;
  /** The IndexedDB factory (default `globalThis.indexedDB`). */
  indexedDB?: IdbFactoryLike;
  /** The key range class (default `globalThis.IDBKeyRange`). */
  IDBKeyRange?: IdbKeyRangeLike;
}

function request<T>(req: IdbRequestLike<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IdbTransactionLike, failure: () => unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () =>
      reject(
        failure() ?? tx.error ?? new Error("IndexedDB transaction aborted"),
      );
  });
}

function globalIdb(): { factory?: IdbFactoryLike; range?: IdbKeyRangeLike } {
  const g = globalThis as {
    indexedDB?: IdbFactoryLike;
    IDBKeyRange?: IdbKeyRangeLike;
  };
  return { factory: g.indexedDB, range: g.IDBKeyRange };
}

/**
 * Verified streams in IndexedDB. See the module documentation for the
 * layout and durability.
 */
export class IdbStorage implements StorageDriver {
  /** `"indexeddb"`. */
  readonly name = "indexeddb";
  /** The database connection. */
  readonly db: IdbDatabaseLike;
  readonly #range: IdbKeyRangeLike;
  readonly #durability: "strict" | "relaxed" | "default";
  readonly #pieceBytes: number;
  readonly #ownsDb: boolean;
  readonly #queue = new KeyedQueue();
  #closed = false;

  /**
   * Stores streams in an open database that has the `ranges` and `lengths`
   * object stores ({@linkcode openIdbStorage} creates them). `ownsDb` makes
   * `close()` close the connection.
   */
  constructor(
    db: IdbDatabaseLike,
    options: IdbStorageOptions = {},
    ownsDb = false,
  ) {
    if (
      db === null || typeof db !== "object" ||
      typeof db.transaction !== "function"
    ) {
      throw new TypeError("Cannot create IdbStorage: expected an IDBDatabase");
    }
    for (const name of [RANGES, LENGTHS]) {
      if (!db.objectStoreNames.contains(name)) {
        throw new TypeError(
          `Cannot create IdbStorage: the database has no "${name}" object store (open it with openIdbStorage)`,
        );
      }
    }
    const range = options.IDBKeyRange ?? globalIdb().range;
    if (!range) {
      throw new TypeError(
        "Cannot create IdbStorage: IDBKeyRange is not available; pass options.IDBKeyRange",
      );
    }
    const durability = options.durability ?? "strict";
    if (!["strict", "relaxed", "default"].includes(durability)) {
      throw new TypeError(
        `Cannot create IdbStorage: durability must be "strict", "relaxed" or "default", got ${
          String(durability)
        }`,
      );
    }
    const pieceBytes = options.maxPieceBytes ?? DEFAULT_IDB_PIECE_BYTES;
    if (!Number.isSafeInteger(pieceBytes) || pieceBytes < 69) {
      throw new RangeError(
        `Cannot create IdbStorage: maxPieceBytes must be an integer of at least 69 (the longest chunk), got ${pieceBytes}`,
      );
    }
    this.db = db;
    this.#range = range;
    this.#durability = durability;
    this.#pieceBytes = pieceBytes;
    this.#ownsDb = ownsDb;
  }

  /**
   * The stored chunks of `key` (views into the pieces), checked for
   * structure. Anything malformed throws a `StorageError` naming the offset,
   * whose `chunks` are the readable prefix; nothing is changed.
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
    const tx = this.db.transaction([RANGES, LENGTHS], "readonly");
    const lengthReq = request(tx.objectStore(LENGTHS).get(key));
    const query = this.#range.bound([key, 0], [key, Infinity]);
    const ranges = tx.objectStore(RANGES);
    const keysReq = request(ranges.getAllKeys(query));
    const valuesReq = request(ranges.getAll(query));
    const [length, keys, values] = await Promise.all([
      lengthReq,
      keysReq,
      valuesReq,
      done(tx, () => undefined),
    ]);
    const pieces: Piece[] = keys.map((k, i) => ({
      offset: (k as [string, number])[1],
      bytes: values[i] as Uint8Array,
    }));
    const stored = (length as number | undefined) ?? 0;
    if (stored === 0) return [];
    return readPieces(pieces, stored, {
      key,
      source: `IndexedDB "${RANGES}" [${key}, …]`,
    });
  }

  /**
   * Appends a verified range (whole chunks ending with a SIGNATURE chunk)
   * at `offset`, which must equal the stored length, in one transaction;
   * resolves when it completes. Throws a `TypeError` for a bad key, a
   * `RangeError` for an empty range, a range not ending in a SIGNATURE, or
   * an offset that is not the stored length, and a `SyntaxError` for a
   * malformed chunk.
   */
  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "append");
      checkAppendRange(key, offset, chunks);
      const pieces = packPieces(chunks, offset, this.#pieceBytes);
      return this.#serial(key, () => this.#append(key, offset, pieces));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A `readwrite` transaction over both stores (with the driver's
   * durability): `finished` settles with it, `fail` aborts it so that
   * `finished` rejects with `error`, and `writeTail` stores `pieces` as the
   * stream from `offset` on — after `cut`, the kept piece holding byte
   * `offset - 1` cut at `offset` — deleting every piece from `offset` on
   * first (after an append nothing should lie there, transactions being
   * atomic; it is cleared anyway so it can never be mistaken for stored
   * bytes).
   */
  #writeTransaction(key: string): {
    lengths: IdbObjectStoreLike;
    ranges: IdbObjectStoreLike;
    finished: Promise<void>;
    fail: (error: unknown) => void;
    writeTail: (offset: number, pieces: Piece[], cut?: Piece) => void;
  } {
    const tx = this.db.transaction([RANGES, LENGTHS], "readwrite", {
      durability: this.#durability,
    });
    let failure: Error | undefined;
    const finished = done(tx, () => failure);
    const lengths = tx.objectStore(LENGTHS);
    const ranges = tx.objectStore(RANGES);
    const fail = (error: unknown) => {
      failure = error instanceof Error ? error : new Error(String(error));
      tx.abort();
    };
    const writeTail = (offset: number, pieces: Piece[], cut?: Piece) => {
      if (cut) ranges.put(cut.bytes, [key, cut.offset]);
      ranges.delete(this.#range.bound([key, offset], [key, Infinity]));
      let end = offset;
      for (const piece of pieces) {
        ranges.put(piece.bytes, [key, piece.offset]);
        end = piece.offset + piece.bytes.length;
      }
      lengths.put(end, key);
    };
    return { lengths, ranges, finished, fail, writeTail };
  }

  #append(key: string, offset: number, pieces: Piece[]): Promise<void> {
    const { lengths, finished, fail, writeTail } = this.#writeTransaction(key);
    const read = lengths.get(key);
    read.onsuccess = () => {
      const stored = (read.result as number | undefined) ?? 0;
      if (stored !== offset) {
        return fail(
          new RangeError(
            `Cannot append to ${
              shortKey(key)
            } at stream offset ${offset}: ${stored} bytes are stored, and a range must start where the stored bytes end`,
          ),
        );
      }
      writeTail(offset, pieces);
    };
    return finished;
  }

  /**
   * Replaces everything stored for `key` from stream offset `offset` on
   * with `chunks` (a verified range ending with a SIGNATURE chunk, or `[]`
   * to truncate): the tail a rebase rewrote (see `StorageDriver.replace`).
   * `offset` must be 0 or the end of a stored SIGNATURE chunk, at most the
   * stored length. One `readwrite` transaction (with the driver's
   * durability), so the stored stream is the old one or the new one, never
   * a mix; runs in call order with the key's appends and resolves when the
   * transaction completes.
   *
   * Throws a `TypeError` for a bad key or chunk type, a `RangeError` for
   * an offset beyond the stored length, inside a chunk or not right after
   * a SIGNATURE chunk, or a range not ending with one, and a `SyntaxError`
   * for a malformed chunk; the transaction is aborted and nothing changes.
   */
  replace(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "replace a stored stream");
      checkReplacement(key, offset, chunks);
      const pieces = packPieces(chunks, offset, this.#pieceBytes);
      return this.#serial(key, () => this.#replace(key, offset, pieces));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #replace(key: string, offset: number, pieces: Piece[]): Promise<void> {
    const { lengths, ranges, finished, fail, writeTail } = this
      .#writeTransaction(key);
    const read = lengths.get(key);
    read.onsuccess = () => {
      const stored = (read.result as number | undefined) ?? 0;
      if (offset > stored) {
        return fail(replaceOffsetError(key, offset, beyondStored(stored)));
      }
      if (offset === 0) return writeTail(offset, pieces);
      // The piece holding byte offset - 1: the last one starting before it.
      const before = ranges.getAllKeys(
        this.#range.bound([key, 0], [key, offset - 1]),
      );
      before.onsuccess = () => {
        const keys = before.result;
        if (keys.length === 0) {
          return fail(
            replaceOffsetError(
              key,
              offset,
              `no stored piece holds byte ${offset - 1}`,
            ),
          );
        }
        const start = (keys[keys.length - 1] as [string, number])[1];
        const get = ranges.get([key, start]);
        get.onsuccess = () => {
          const piece = { offset: start, bytes: get.result as Uint8Array };
          try {
            checkPieceBoundary(key, offset, piece);
          } catch (error) {
            return fail(error);
          }
          const end = start + piece.bytes.length;
          writeTail(
            offset,
            pieces,
            end > offset
              ? { offset: start, bytes: piece.bytes.slice(0, offset - start) }
              : undefined,
          );
        };
      };
    };
    return finished;
  }

  /** Keys with stored bytes, sorted. */
  async keys(): Promise<string[]> {
    this.#checkOpen("list keys");
    const tx = this.db.transaction([LENGTHS], "readonly");
    const store = tx.objectStore(LENGTHS);
    const [keys, values] = await Promise.all([
      request(store.getAllKeys()),
      request(store.getAll()),
      done(tx, () => undefined),
    ]);
    const out: string[] = [];
    keys.forEach((key, i) => {
      if (typeof key === "string" && (values[i] as number) > 0) out.push(key);
    });
    return out.sort();
  }

  /** Waits for pending appends (each is durable once its transaction completed). */
  async flush(): Promise<void> {
    this.#checkOpen("flush");
    await this.#queue.idle();
  }

  /**
   * Waits for pending appends and closes the connection if this driver
   * opened it; the driver is unusable afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.idle();
    if (this.#ownsDb) this.db.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new Error(`Cannot ${what}: the IndexedDB storage is closed`);
    }
  }

  #serial<T>(key: string, op: () => Promise<T>): Promise<T> {
    this.#checkOpen(`use the stored stream of ${shortKey(key)}`);
    return this.#queue.run(key, op);
  }
}

/**
 * Opens (creating or upgrading) the IndexedDB database `name` and returns
 * an {@linkcode IdbStorage} on it; `close()` closes the connection. Throws
 * a `TypeError` when IndexedDB is not available.
 */
export async function openIdbStorage(
  name = "streamo",
  options: IdbStorageOptions = {},
): Promise<IdbStorage> {
  const factory = options.indexedDB ?? globalIdb().factory;
  if (!factory) {
    throw new TypeError(
      "Cannot open IdbStorage: indexedDB is not available here; pass options.indexedDB",
    );
  }
  const req = factory.open(name, IDB_SCHEMA_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    for (const store of [RANGES, LENGTHS]) {
      if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
    }
  };
  req.onblocked = () => {};
  const db = await request(req);
  try {
    return new IdbStorage(db, options, true);
  } catch (error) {
    db.close();
    throw error;
  }
}
