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
 * After a `replace` (the tail a rebase rewrote) the length entry may be a
 * *layout* instead, `{ length, epoch, segments }`: `segments` is a list of
 * `[from, generation]` pairs, and the stream's bytes from `from` up to the
 * next segment's `from` (or `length`) are in that generation's pieces —
 * generation `0` is the `repo` namespace above, any other is a random id
 * whose pieces are `[...prefix, "gen", key, id, offset]`. `epoch` counts
 * replaces. Appends add to the last segment's generation. A stream never
 * replaced keeps the plain number, so old stores read as before.
 *
 * An append is one atomic operation that checks the length entry's
 * versionstamp (so concurrent writers, even in other processes, cannot
 * interleave), writes the pieces and the new length. A range too large for
 * one atomic operation (KV allows 1,000 mutations and 800 KiB per
 * operation) is written as several, the last of which sets the length: a
 * crash in between leaves the old length, and the orphaned pieces are
 * ignored on load and deleted by the next append.
 *
 * A replace is also committed by the length entry. When the kept piece cut,
 * the deletions of the old tail's pieces, the new pieces and the new length
 * fit in one atomic operation (checking the length entry), they are written
 * in place. Otherwise the new tail goes to a fresh generation in several
 * operations, the last of which writes the new layout: a crash before it
 * leaves the old layout, which names none of the new pieces; after it, the
 * new layout clips the old generations at the replace offset, so old pieces
 * are never mixed in. Pieces no layout names any more are deleted right
 * after the commit, or by the next replace if a crash came first (each
 * deleting operation re-writes the length entry, so another writer's
 * replace that was still writing pieces the sweep took fails its commit).
 * A load re-reads the length entry after reading the pieces and starts
 * over if a replace committed meanwhile.
 *
 * **Durability:** `append` and `replace` resolve once KV committed the
 * operation (for a replace, the one writing the length entry), which then
 * survives the process being killed; fsync behaviour on power loss is
 * Deno KV's (SQLite's). `flush` waits for pending operations.
 *
 * @module
 */

import { StorageError } from "./errors.ts";
import { checkRepoKey, shortKey } from "./keys.ts";
import { chunkStarts, packPieces, type Piece, readPieces } from "./pieces.ts";
import {
  beyondStored,
  checkAppendRange,
  checkPieceBoundary,
  checkReplacement,
  replaceOffsetError,
} from "./replace.ts";
import { KeyedQueue } from "./queue.ts";
import type { StorageDriver } from "./types.ts";

/** Default piece size: 60 KiB, below Deno KV's 64 KiB value limit. */
export const DEFAULT_KV_PIECE_BYTES = 60 * 1024;

/** Deno KV's value size limit. */
export const KV_MAX_VALUE_BYTES = 65536;

// Deno KV's per-atomic-operation limits, with room to spare.
const MAX_MUTATIONS = 900;
const MAX_OPERATION_BYTES = 760 * 1024;
// Deno KV's limit on the total size of the keys of one operation is
// 80 KiB; with room for the checked and written length entry.
const MAX_OPERATION_KEY_BYTES = 72 * 1024;
// Attempts of an append while another connection holds the write lock.
const LOCK_RETRIES = 50;
// Attempts of a load while other writers keep replacing the stream.
const LOAD_RETRIES = 8;

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

/** Generation `0` is the `repo` namespace; others are random ids. */
type Generation = 0 | string;

/** What a length entry says (see the module documentation). */
interface Layout {
  /** Stored stream length: the commit point. */
  length: number;
  /** Replaces so far (0: never replaced). */
  epoch: number;
  /** `[from, generation]`, `from` strictly increasing from 0. */
  segments: [number, Generation][];
}

/** The length entry's value for `layout`: a plain number when it can be. */
function layoutValue(layout: Layout): number | Layout {
  const plain = layout.epoch === 0 && layout.segments.length === 1 &&
    layout.segments[0][1] === 0;
  return plain ? layout.length : layout;
}

/** Reads a length entry's value, or returns why it is not one. */
function parseLayout(value: unknown): Layout | string {
  if (value === null || value === undefined) {
    return { length: 0, epoch: 0, segments: [[0, 0]] };
  }
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0
      ? { length: value, epoch: 0, segments: [[0, 0]] }
      : `the stored length ${value} is not a length`;
  }
  const { length, epoch, segments } = value as Record<string, unknown>;
  if (
    typeof length !== "number" || !Number.isSafeInteger(length) || length < 0
  ) {
    return `the layout's length ${String(length)} is not a length`;
  }
  if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) {
    return `the layout's epoch ${String(epoch)} is not a count`;
  }
  if (!Array.isArray(segments) || segments.length === 0) {
    return "the layout has no segments";
  }
  let previous = -1;
  for (const segment of segments) {
    const [from, generation] = Array.isArray(segment) ? segment : [];
    const fromOk = typeof from === "number" && Number.isSafeInteger(from) &&
      (previous < 0 ? from === 0 : from > previous && from < length);
    const generationOk = generation === 0 ||
      (typeof generation === "string" && generation !== "");
    if (!fromOk || !generationOk) {
      return `the layout's segment ${JSON.stringify(segment)} is not valid`;
    }
    previous = from;
  }
  return { length, epoch, segments: segments as [number, Generation][] };
}

/** Where segment `i` of `layout` ends. */
function segmentEnd(layout: Layout, i: number): number {
  return i + 1 < layout.segments.length
    ? layout.segments[i + 1][0]
    : layout.length;
}

/** `piece` cut to the bytes in `[from, to)`. */
function clip(piece: Piece, from: number, to: number): Piece {
  const start = Math.max(from, piece.offset);
  const end = Math.min(to, piece.offset + piece.bytes.length);
  return {
    offset: start,
    bytes: piece.bytes.subarray(start - piece.offset, end - piece.offset),
  };
}

/** A fresh generation id: 16 random hex digits. */
function newGeneration(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Splits `mutations` into groups that each fit one atomic operation with
 * `reserve` more bytes and one more mutation (the length entry).
 */
function splitBatches(mutations: Mutation[], reserve: number): Mutation[][] {
  const batches: Mutation[][] = [[]];
  let size = 0;
  let keyBytes = 0;
  for (const mutation of mutations) {
    const batch = batches[batches.length - 1];
    const mutationKeyBytes = encodedKeySize(mutation.key);
    if (
      batch.length > 0 &&
      (batch.length + 2 > MAX_MUTATIONS ||
        size + mutation.size + reserve > MAX_OPERATION_BYTES ||
        keyBytes + mutationKeyBytes > MAX_OPERATION_KEY_BYTES)
    ) {
      batches.push([mutation]);
      size = mutation.size;
      keyBytes = mutationKeyBytes;
    } else {
      batch.push(mutation);
      size += mutation.size;
      keyBytes += mutationKeyBytes;
    }
  }
  return batches;
}

/** The mutations writing `pieces` under `prefix`. */
function pieceSets(prefix: Deno.KvKey, pieces: readonly Piece[]): Mutation[] {
  return pieces.map((piece) => {
    const key = [...prefix, piece.offset];
    return {
      type: "set",
      key,
      value: piece.bytes,
      size: keySize(key) + piece.bytes.length,
    };
  });
}

/** Room to reserve in an operation for writing `layout` under `lengthKey`. */
function layoutSize(lengthKey: Deno.KvKey, layout: Layout): number {
  return keySize(lengthKey) + 64 + 32 * layout.segments.length;
}

function addMutations(op: Deno.AtomicOperation, mutations: Mutation[]): void {
  for (const mutation of mutations) {
    if (mutation.type === "set") op.set(mutation.key, mutation.value);
    else op.delete(mutation.key);
  }
}

const utf8 = new TextEncoder();

/** About how many bytes Deno KV's encoding of `key` takes (a bit more). */
function encodedKeySize(key: Deno.KvKey): number {
  let size = 0;
  for (const part of key) {
    size += typeof part === "string"
      ? utf8.encode(part).length + 2
      : part instanceof Uint8Array
      ? part.length + 2
      : 10;
  }
  return size;
}

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
  readonly #queue = new KeyedQueue();
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

  /** Where generation `generation`'s pieces of `key` are. */
  #generationPrefix(key: string, generation: Generation): Deno.KvKey {
    return generation === 0
      ? this.#repoPrefix(key)
      : [...this.#prefix, "gen", key, generation];
  }

  /** Where appends to `layout` go: its last segment's generation. */
  #tailPrefix(key: string, layout: Layout): Deno.KvKey {
    return this.#generationPrefix(key, layout.segments.at(-1)![1]);
  }

  /** The layout in a length entry's value; a `StorageError` if malformed. */
  #layout(key: string, value: unknown): Layout {
    const layout = parseLayout(value);
    if (typeof layout === "string") {
      const source = `Deno KV ${JSON.stringify(this.#lengthKey(key))}`;
      throw new StorageError(
        `Cannot read ${source}: ${layout}. The stored data was left unchanged`,
        { key, source },
      );
    }
    return layout;
  }

  /** The piece under `prefix` holding byte `at` (the last starting at or before it). */
  async #pieceHolding(
    prefix: Deno.KvKey,
    at: number,
  ): Promise<Piece | undefined> {
    for await (
      const entry of this.kv.list<Uint8Array>(
        { prefix, end: [...prefix, at + 1] },
        { reverse: true, limit: 1 },
      )
    ) {
      const offset = entry.key[entry.key.length - 1];
      if (typeof offset !== "number") return undefined;
      return { offset, bytes: entry.value };
    }
    return undefined;
  }

  /**
   * The stored pieces covering stream bytes `[from, to)` under `layout`, in
   * order, each cut to the bytes its segment owns (and to `[from, to)`):
   * pieces of other generations and bytes past a segment's end are never
   * returned. Gaps are left for `readPieces` to report.
   */
  async #piecesBetween(
    key: string,
    layout: Layout,
    from: number,
    to: number,
  ): Promise<Piece[]> {
    const out: Piece[] = [];
    for (let i = 0; i < layout.segments.length; i++) {
      const low = Math.max(from, layout.segments[i][0]);
      const high = Math.min(to, segmentEnd(layout, i));
      if (low >= high) continue;
      const prefix = this.#generationPrefix(key, layout.segments[i][1]);
      const list = this.kv.list<Uint8Array>(
        { start: [...prefix, low], end: [...prefix, high] },
        { batchSize: 500 },
      );
      // When no piece starts at `low`, it is inside one that starts before.
      const head = async () => {
        const holding = await this.#pieceHolding(prefix, low);
        if (holding && holding.offset + holding.bytes.length > low) {
          out.push(clip(holding, low, high));
        }
      };
      let first = true;
      for await (const entry of list) {
        const offset = entry.key[entry.key.length - 1];
        if (
          typeof offset !== "number" || !(entry.value instanceof Uint8Array)
        ) {
          continue; // not a piece; readPieces reports the gap
        }
        if (first && offset > low) await head();
        first = false;
        out.push(clip({ offset, bytes: entry.value }, low, high));
      }
      if (first) await head();
    }
    return out;
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
    const lengthKey = this.#lengthKey(key);
    for (let attempt = 1;; attempt++) {
      const entry = await this.kv.get(lengthKey);
      const layout = this.#layout(key, entry.value);
      if (layout.length === 0) return [];
      const pieces = await this.#piecesBetween(key, layout, 0, layout.length);
      // Another writer's replace may have committed while the pieces were
      // listed (in several reads): then they could mix old and new.
      const after = await this.kv.get(lengthKey);
      const now = parseLayout(after.value);
      if (
        after.versionstamp !== entry.versionstamp &&
        (typeof now === "string" || now.epoch !== layout.epoch)
      ) {
        if (attempt < LOAD_RETRIES) continue;
        throw new StorageError(
          `Cannot load the stored stream of ${
            shortKey(key)
          }: other writers replaced its tail ${LOAD_RETRIES} times while it was being read`,
          { key, source: `Deno KV ${JSON.stringify(lengthKey)}` },
        );
      }
      return readPieces(pieces, layout.length, {
        key,
        source: `Deno KV ${JSON.stringify(this.#repoPrefix(key))}`,
      });
    }
  }

  /**
   * Appends a verified range (whole chunks ending with a SIGNATURE chunk)
   * at `offset`, which must equal the stored length; resolves once KV
   * committed it. Idempotent: a range the store already holds byte for byte
   * (another writer sharing the KV stored it first) resolves as done, and
   * of one it holds in part only the rest is appended. Throws a `TypeError`
   * for a bad key, a `RangeError` for an empty range, a range not ending in
   * a SIGNATURE, an offset beyond the stored length, or bytes that differ
   * from the stored ones (also when another writer appended different bytes
   * meanwhile), and a `SyntaxError` for a malformed chunk.
   */
  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "append");
      checkAppendRange(key, offset, chunks);
      const pieces = packPieces(chunks, offset, this.#pieceBytes);
      return this.#serial(
        key,
        () => this.#retryLocked(() => this.#append(key, offset, pieces)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Another connection to the same KV file holding SQLite's write lock makes
   * an operation fail with "database is locked": wait and retry (the retry
   * re-reads the length, so a writer that lost the race gets a RangeError).
   */
  async #retryLocked<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await op();
      } catch (error) {
        if (
          attempt >= LOCK_RETRIES ||
          !/database is locked/i.test(String((error as Error)?.message))
        ) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 2));
      }
    }
  }

  async #append(
    key: string,
    offset: number,
    pieces: Piece[],
    again = false,
  ): Promise<void> {
    const lengthKey = this.#lengthKey(key);
    const entry = await this.kv.get(lengthKey);
    const layout = this.#layout(key, entry.value);
    const stored = layout.length;
    if (offset < stored) {
      // Idempotent: what the store already holds (another writer sharing
      // the KV stored it first) is done; only a remainder is appended.
      const rest = await this.#notStoredYet(key, offset, pieces, layout);
      if (rest.length > 0) await this.#append(key, stored, rest);
      else if (!again) {
        // Compared against a tail another writer replaced meanwhile?
        const now = parseLayout((await this.kv.get(lengthKey)).value);
        if (typeof now === "string" || now.epoch !== layout.epoch) {
          return await this.#append(key, offset, pieces, true);
        }
      }
      return;
    }
    if (stored !== offset) {
      throw new RangeError(
        `Cannot append to ${
          shortKey(key)
        } at stream offset ${offset}: ${stored} bytes are stored, and a range must start where the stored bytes end`,
      );
    }
    const repoPrefix = this.#tailPrefix(key, layout);
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
    mutations.push(...pieceSets(repoPrefix, pieces));
    const last = pieces[pieces.length - 1];
    const end = last.offset + last.bytes.length;
    const batches = splitBatches(mutations, layoutSize(lengthKey, layout));
    for (let i = 0; i < batches.length; i++) {
      const op = this.kv.atomic().check(entry);
      addMutations(op, batches[i]);
      if (i === batches.length - 1) {
        op.set(lengthKey, layoutValue({ ...layout, length: end }));
      }
      const result = await op.commit();
      if (!result.ok && i === 0 && !again) {
        // Another writer appended first: done if it stored these bytes.
        return await this.#append(key, offset, pieces, true);
      }
      if (!result.ok) {
        const now = this.#layout(key, (await this.kv.get(lengthKey)).value)
          .length;
        throw new RangeError(
          `Cannot append to ${
            shortKey(key)
          } at stream offset ${offset}: another writer changed the stored length meanwhile (now ${now} bytes); nothing of this range became visible`,
        );
      }
    }
  }

  /**
   * The part of a range at `offset` beyond `stored`, after checking that
   * the part below `stored` is byte for byte what the store holds. Throws a
   * `RangeError` when it differs (another writer stored a different
   * continuation: a fork) or when `stored` cuts a chunk of the range.
   */
  async #notStoredYet(
    key: string,
    offset: number,
    pieces: Piece[],
    layout: Layout,
  ): Promise<Piece[]> {
    const stored = layout.length;
    const last = pieces[pieces.length - 1];
    const end = last.offset + last.bytes.length;
    const upto = Math.min(end, stored);
    const held = await this.#piecesBetween(key, layout, offset, upto);
    const differs = (why: string) =>
      new RangeError(
        `Cannot append to ${
          shortKey(key)
        } at stream offset ${offset}: ${stored} bytes are stored, and ${why}`,
      );
    // Compare [offset, upto) of the range with the stored pieces.
    const mine = new Uint8Array(upto - offset);
    for (const piece of pieces) {
      if (piece.offset >= upto) break;
      mine.set(
        piece.bytes.subarray(0, upto - piece.offset),
        piece.offset - offset,
      );
    }
    let at = offset;
    for (const piece of held) {
      const pieceEnd = piece.offset + piece.bytes.length;
      if (piece.offset > at) break;
      for (; at < Math.min(pieceEnd, upto); at++) {
        if (mine[at - offset] !== piece.bytes[at - piece.offset]) {
          throw differs(
            `the range differs from the stored bytes at ${at} (another writer stored a different continuation)`,
          );
        }
      }
    }
    if (at < upto) {
      throw differs(`the stored pieces do not cover ${at}..${upto}`);
    }
    if (upto === end) return [];
    // Append the remainder, from `stored` (which must be a chunk boundary).
    const index = pieces.findIndex((p) => p.offset + p.bytes.length > stored);
    const piece = pieces[index];
    const cut = stored - piece.offset;
    if (cut > 0 && !chunkStarts(piece.bytes, "a piece").includes(cut)) {
      throw differs("the stored length ends inside a chunk of the range");
    }
    return [
      { offset: stored, bytes: piece.bytes.subarray(cut) },
      ...pieces.slice(index + 1),
    ];
  }

  /**
   * Replaces everything stored for `key` from stream offset `offset` on
   * with `chunks` (a verified range ending with a SIGNATURE chunk, or `[]`
   * to truncate): the tail a rebase rewrote (see `StorageDriver.replace`).
   * `offset` must be 0 or the end of a stored SIGNATURE chunk, at most the
   * stored length. Runs in call order with the key's appends and resolves
   * once KV committed the new length entry.
   *
   * Atomic through the length entry (see the module documentation): in
   * one operation when it fits, else the new tail is written to a fresh
   * generation first and the new layout last; a crash at any point leaves
   * the old stream or the new one loadable, never a mix. Replaced pieces
   * are deleted after the commit (best effort; leftovers are ignored on
   * load and deleted by the next replace).
   *
   * Throws a `TypeError` for a bad key or chunk type, a `RangeError` for
   * an offset beyond the stored length, inside a chunk or not right after
   * a SIGNATURE chunk, a range not ending with one, or when another writer
   * changed the stream meanwhile (nothing is replaced then), a
   * `SyntaxError` for a malformed chunk, and a {@linkcode StorageError}
   * when the stored layout is damaged.
   */
  replace(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "replace a stored stream");
      const bytes = checkReplacement(key, offset, chunks);
      const pieces = packPieces(chunks, offset, this.#pieceBytes);
      return this.#serial(
        key,
        () =>
          this.#retryLocked(() => this.#replace(key, offset, pieces, bytes)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #replace(
    key: string,
    offset: number,
    pieces: Piece[],
    bytes: number,
  ): Promise<void> {
    const lengthKey = this.#lengthKey(key);
    const entry = await this.kv.get(lengthKey);
    const layout = this.#layout(key, entry.value);
    if (offset > layout.length) {
      throw replaceOffsetError(key, offset, beyondStored(layout.length));
    }
    // The segment holding byte offset - 1: the replacement goes there when
    // it fits one operation.
    let s = 0;
    while (
      s + 1 < layout.segments.length && layout.segments[s + 1][0] < offset
    ) s++;
    const prefix = this.#generationPrefix(key, layout.segments[s][1]);
    const mutations: Mutation[] = [];
    if (offset > 0) {
      const holding = await this.#pieceHolding(prefix, offset - 1);
      checkPieceBoundary(key, offset, holding);
      if (holding!.offset + holding!.bytes.length > offset) {
        // Cut the piece at the offset (only in place: with a fresh
        // generation the layout clips it).
        const cutKey = [...prefix, holding!.offset];
        const cut = holding!.bytes.slice(0, offset - holding!.offset);
        mutations.push({
          type: "set",
          key: cutKey,
          value: cut,
          size: keySize(cutKey) + cut.length,
        });
      }
    }
    if (offset === layout.length && bytes === 0) return;
    const starts = new Set(pieces.map((piece) => piece.offset));
    for await (
      const old of this.kv.list({ prefix, start: [...prefix, offset] }, {
        batchSize: 500,
      })
    ) {
      if (starts.has(old.key[old.key.length - 1] as number)) continue;
      mutations.push({ type: "delete", key: old.key, size: keySize(old.key) });
    }
    const newLength = offset + bytes;
    const epoch = layout.epoch + 1;
    const reserve = layoutSize(lengthKey, layout);
    const inPlace = [...mutations, ...pieceSets(prefix, pieces)];
    const conflict = () =>
      new RangeError(
        `Cannot replace the stored stream of ${
          shortKey(key)
        } from stream offset ${offset}: another writer changed it meanwhile; nothing was replaced`,
      );

    if (splitBatches(inPlace, reserve).length === 1) {
      const next: Layout = {
        length: newLength,
        epoch,
        segments: layout.segments.slice(0, s + 1),
      };
      const op = this.kv.atomic().check(entry);
      addMutations(op, inPlace);
      op.set(lengthKey, layoutValue(next));
      if (!(await op.commit()).ok) throw conflict();
    } else {
      // Too big for one operation: the new tail goes to a fresh generation,
      // and the layout naming it is the last write. Until then no layout
      // names these pieces; after it, the old ones are clipped at `offset`.
      const kept = offset > 0 ? layout.segments.slice(0, s + 1) : [];
      const generation = newGeneration();
      if (bytes > 0) kept.push([offset, generation]);
      const next: Layout = {
        length: newLength,
        epoch,
        segments: kept.length > 0 ? kept : [[0, 0]],
      };
      const fresh = bytes > 0
        ? pieceSets(this.#generationPrefix(key, generation), pieces)
        : [];
      const batches = splitBatches(fresh, reserve);
      for (let i = 0; i < batches.length; i++) {
        const op = this.kv.atomic().check(entry);
        addMutations(op, batches[i]);
        if (i === batches.length - 1) op.set(lengthKey, layoutValue(next));
        if (!(await op.commit()).ok) throw conflict();
      }
    }
    // Committed. Delete what no layout names any more (best effort).
    await this.#sweep(key).catch(() => {});
  }

  /**
   * Deletes pieces the key's layout does not name: those of generations it
   * does not list, and those past the end of (or before) their segment.
   * Each deleting operation checks the length entry and writes it again
   * (same value, new versionstamp), so a replace by another writer that
   * was still writing pieces this took fails its commit, and the sweep
   * stops when the layout changes under it.
   */
  async #sweep(key: string): Promise<void> {
    const lengthKey = this.#lengthKey(key);
    let entry = await this.kv.get(lengthKey);
    if (entry.versionstamp === null) return;
    const layout = this.#layout(key, entry.value);
    const garbage: Deno.KvKey[] = [];
    const collect = async (selector: Deno.KvListSelector) => {
      for await (const old of this.kv.list(selector, { batchSize: 500 })) {
        garbage.push(old.key);
      }
    };
    const live: string[] = [];
    for (let i = 0; i < layout.segments.length; i++) {
      const [from, generation] = layout.segments[i];
      const prefix = this.#generationPrefix(key, generation);
      if (from > 0) await collect({ prefix, end: [...prefix, from] });
      await collect({ prefix, start: [...prefix, segmentEnd(layout, i)] });
      if (generation !== 0) live.push(generation);
    }
    // Generations no segment names, between the live ones.
    const generations = [...this.#prefix, "gen", key];
    let start: Deno.KvKey | undefined;
    for (const generation of live.sort()) {
      const end = [...generations, generation];
      await collect(
        start ? { start, end } : { prefix: generations, end },
      );
      start = [...generations, generation, Infinity];
    }
    await collect(
      start ? { prefix: generations, start } : { prefix: generations },
    );
    const deletes: Mutation[] = garbage.map((k) => ({
      type: "delete",
      key: k,
      size: keySize(k),
    }));
    if (deletes.length === 0) return;
    for (const batch of splitBatches(deletes, keySize(lengthKey) + 1024)) {
      const op = this.kv.atomic().check(entry);
      addMutations(op, batch);
      op.set(lengthKey, entry.value);
      const result = await op.commit();
      if (!result.ok) return; // changed under us: the next replace sweeps
      entry = { ...entry, versionstamp: result.versionstamp };
    }
  }

  /** Keys with stored bytes, sorted. */
  async keys(): Promise<string[]> {
    this.#checkOpen("list keys");
    const keys: string[] = [];
    const prefix = [...this.#prefix, "length"];
    for await (const entry of this.kv.list({ prefix })) {
      const key = entry.key[entry.key.length - 1];
      const layout = parseLayout(entry.value);
      if (typeof key === "string" && typeof layout !== "string") {
        if (layout.length > 0) keys.push(key);
      }
    }
    return keys.sort();
  }

  /** Waits for pending appends (each is durable once committed). */
  async flush(): Promise<void> {
    this.#checkOpen("flush");
    await this.#queue.idle();
  }

  /**
   * Waits for pending appends and closes the KV store if this driver opened
   * it; the driver is unusable afterwards.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.idle();
    if (this.#ownsKv) this.kv.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new Error(`Cannot ${what}: the KV storage is closed`);
    }
  }

  #serial<T>(key: string, op: () => Promise<T>): Promise<T> {
    this.#checkOpen(`use the stored stream of ${shortKey(key)}`);
    return this.#queue.run(key, op);
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
