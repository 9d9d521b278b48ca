/**
 * The file archive driver (Deno): one append-only file per repo,
 * `<dir>/<key>.bin`, holding the repo's verified stream as chunk frames
 * `[u32 little-endian length][chunk]` — the reference's archive layout, so a
 * reference node can load our files and we load theirs.
 *
 * **Appends only.** Valid data is never rewritten or truncated, with two
 * exceptions: a torn tail found on load (see {@linkcode FileStorage.load}),
 * and a tail replaced by a rebase ({@linkcode FileStorage.replace}), which
 * writes a whole new archive next to the old one and renames it over it.
 *
 * **Durability policy.** Every `append` is one `write` of the whole range's
 * frames, at the end of the file.
 * - `durability: "interval"` (default): `append` resolves once the range is
 *   written to the OS — it survives the process being killed. Written data
 *   is fsynced (`FsFile.syncData()`) at most `syncInterval` ms later
 *   (default 1000), on `flush()` and on `close()`; a power loss or kernel
 *   crash can lose ranges acknowledged in that last interval, never ranges
 *   before the last fsync.
 * - `durability: "always"`: `append` resolves only after `syncData()` (and,
 *   for a new file, an fsync of the directory): acknowledged means on disk.
 * Either way a crash can only leave a torn tail, which the next load cuts
 * back to the last complete signed range. `replace` always resolves after
 * fsync, in both modes.
 *
 * One driver instance per directory: two processes appending to the same
 * archive would interleave their frames.
 *
 * @module
 */

import { encodeFrames, FRAME_HEADER } from "../codec/frames.ts";
import { type ArchiveScan, parseArchive } from "./archive.ts";
import { checkChunkWidth, isSignatureChunk } from "./checker.ts";
import { type RecoveryEvent, StorageError } from "./errors.ts";
import { checkRepoKey, shortKey } from "./keys.ts";
import {
  beyondStored,
  checkPieceBoundary,
  checkReplacement,
  replaceOffsetError,
} from "./replace.ts";
import type { StorageDriver } from "./types.ts";

/** Default fsync interval of `durability: "interval"`, in ms. */
export const DEFAULT_SYNC_INTERVAL = 1000;

/** Default bound on archive files kept open for appending. */
export const DEFAULT_MAX_OPEN_FILES = 256;

/** Options for {@linkcode FileStorage}. */
export interface FileStorageOptions {
  /**
   * `"interval"` (default): `append` resolves when the range is written to
   * the OS; fsync follows within `syncInterval` ms. `"always"`: `append`
   * resolves after fsync.
   */
  durability?: "interval" | "always";
  /** Most ms between a write and its fsync in `"interval"` mode (default 1000). */
  syncInterval?: number;
  /**
   * Called when a load found a torn tail and cut the file back to its
   * last complete signed range.
   */
  onRecover?: (event: RecoveryEvent) => void;
  /**
   * Called when a background fsync fails. The error is also thrown by the
   * next `append`, `flush` or `close` for that repo.
   */
  onError?: (error: Error) => void;
  /** Most archive files kept open at once (default 256); idle ones are closed first. */
  maxOpenFiles?: number;
}

/** What {@linkcode FileStorage.salvage} did. */
export interface SalvageResult {
  /** The readable chunks kept in the archive. */
  chunks: Uint8Array[];
  /** Where the whole damaged file was copied, or `undefined` if it was not damaged. */
  movedTo: string | undefined;
}

interface FileState {
  readonly key: string;
  readonly path: string;
  queue: Promise<unknown>;
  pending: number;
  /** `streamLength`/`fileSize` describe the file. */
  known: boolean;
  streamLength: number;
  fileSize: number;
  file: Deno.FsFile | undefined;
  /** Written since the last fsync. */
  dirty: boolean;
  /** Created by us; its directory entry is not fsynced yet. */
  newFile: boolean;
  /** A write or fsync failed: the file's state on disk is unknown. */
  failure: Error | undefined;
}

const ARCHIVE_NAME = /^(0[23][0-9a-f]{64})\.bin$/;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Writes all of `bytes` to `file` (a `write` may take only part). */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/**
 * Verified streams in append-only archive files, one per repo. See the
 * module documentation for the durability policy.
 *
 * @example
 * ```ts
 * import { FileStorage } from "./file_storage.deno.ts";
 * import { loadInto } from "./load.ts";
 * import { Repo, Signer } from "../mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const repo = new Repo();
 * await repo.attachSigner(new Signer("alice", "pw", 1), "chat");
 * repo.set({ name: "alice" });
 * await repo.whenSigned();
 *
 * const storage = new FileStorage(dir);
 * await storage.append(repo.key!, 0, repo.chunksBetween(0));
 * await storage.close();
 *
 * const again = new FileStorage(dir);
 * const copy = new Repo({ key: repo.key });
 * loadInto(copy, await again.load(repo.key!));
 * await again.close();
 * console.log(copy.get("name")); // "alice"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileStorage implements StorageDriver {
  /** `"file"`. */
  readonly name = "file";
  /** The data directory. */
  readonly dir: string;
  readonly #always: boolean;
  readonly #interval: number;
  readonly #onRecover?: (event: RecoveryEvent) => void;
  readonly #onError?: (error: Error) => void;
  readonly #maxOpen: number;
  readonly #states = new Map<string, FileState>();
  /** States with an open file, least recently used first. */
  readonly #open = new Map<string, FileState>();
  #dirReady: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Stores archives in `dir` (created on first write if missing). Throws a
   * `TypeError`/`RangeError` for bad options.
   */
  constructor(dir: string, options: FileStorageOptions = {}) {
    if (typeof dir !== "string" || dir === "") {
      throw new TypeError(
        "Cannot create FileStorage: the data directory must be a non-empty path",
      );
    }
    const durability = options.durability ?? "interval";
    if (durability !== "interval" && durability !== "always") {
      throw new TypeError(
        `Cannot create FileStorage: durability must be "interval" or "always", got ${
          String(durability)
        }`,
      );
    }
    const interval = options.syncInterval ?? DEFAULT_SYNC_INTERVAL;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new RangeError(
        `Cannot create FileStorage: syncInterval must be a non-negative number of ms, got ${interval}`,
      );
    }
    const maxOpen = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    if (!Number.isSafeInteger(maxOpen) || maxOpen < 1) {
      throw new RangeError(
        `Cannot create FileStorage: maxOpenFiles must be a positive integer, got ${maxOpen}`,
      );
    }
    this.dir = dir.length > 1 ? dir.replace(/[\\/]+$/, "") : dir;
    this.#always = durability === "always";
    this.#interval = interval;
    this.#onRecover = options.onRecover;
    this.#onError = options.onError;
    this.#maxOpen = maxOpen;
  }

  /** The archive file of `key`. Throws a `TypeError` for a bad key. */
  pathOf(key: string): string {
    checkRepoKey(key, "name an archive file");
    return `${this.dir}/${key}.bin`;
  }

  /**
   * The stored chunks of `key` (views into the file's bytes), checked:
   * framing, footer widths and addresses.
   *
   * A **torn tail** — a partial frame, chunks with no SIGNATURE after them,
   * or damaged bytes after which no complete SIGNATURE frame follows — is
   * what an interrupted append leaves: the file is truncated to its last
   * complete signed range (fsynced), `onRecover` is told, and the chunks up
   * to there are returned. Later appends continue from there.
   *
   * **Damage inside signed data** (a frame of length 0 or above 69 bytes, a
   * chunk whose footer width is not its length, an address outside or into
   * a chunk — with a complete SIGNATURE frame after it) throws a
   * {@linkcode StorageError} naming the file and byte offset. The file is
   * left unchanged; the error's `chunks` are the readable prefix (up to the
   * last SIGNATURE before the damage), and appends to the key fail until
   * the file is repaired or {@linkcode FileStorage.salvage}d.
   */
  async load(key: string): Promise<Uint8Array[]> {
    checkRepoKey(key, "load");
    const state = this.#state(key);
    return await this.#serial(state, async () => {
      if (!state.known) await this.#removeTemp(state);
      return (await this.#scan(state)).scan.chunks;
    });
  }

  /**
   * Appends a verified range (whole chunks ending with a SIGNATURE chunk)
   * at stream offset `offset`, which must equal the stored length: one
   * write of the range's frames. Resolves under the durability policy.
   * Appends to one key run in call order; different keys run concurrently.
   *
   * Throws a `TypeError` for a bad key or chunk type, a `RangeError` for
   * an empty range, a range not ending in a SIGNATURE or an offset that is
   * not the stored length, a `SyntaxError` for a malformed chunk, and a
   * {@linkcode StorageError} when the archive is damaged or a write/fsync
   * of this repo failed (a failed write is cut back first).
   */
  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "append");
      const frames = checkRange(key, offset, chunks);
      const state = this.#state(key);
      return this.#serial(state, () => this.#append(state, offset, frames));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Replaces everything stored for `key` from stream offset `offset` on
   * with `chunks` (a verified range ending with a SIGNATURE chunk, or `[]`
   * to truncate): the tail a rebase rewrote (see `StorageDriver.replace`).
   * `offset` must be 0 or the end of a stored SIGNATURE chunk, at most the
   * stored length.
   *
   * How: the archive is read and checked (a torn tail is cut back first,
   * as on load), the new archive — the kept prefix's frames, byte for
   * byte, then the new chunks' frames — is written to `<key>.bin.tmp` in
   * the same directory and fsynced, renamed over `<key>.bin`, and the
   * directory is fsynced. Resolves after that, in both durability modes.
   * Runs in call order with the key's appends; the open append handle of
   * the old archive is closed, and the next append opens the new one.
   *
   * **Crash semantics.** The rename is the commit point: a crash before it
   * leaves the old archive untouched (plus a stale `<key>.bin.tmp`, which
   * the next load of the key removes); after it, the new archive is in
   * place. A power loss between the rename and the directory fsync can
   * leave either name, and both files are complete (the new one was
   * fsynced before the rename). A load never sees a mix.
   *
   * Throws a `TypeError` for a bad key or chunk type, a `RangeError` for
   * an offset beyond the stored length, inside a chunk or not right after
   * a SIGNATURE chunk, or a range not ending with one, a `SyntaxError` for
   * a malformed chunk (the archive is unchanged in all these cases), and a
   * {@linkcode StorageError} when the archive is damaged, an earlier write
   * or fsync of it failed, or writing the new archive failed (the old one
   * is then still in place).
   */
  replace(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    try {
      checkRepoKey(key, "replace a stored stream");
      const streamBytes = checkReplacement(key, offset, chunks);
      const frames = { bytes: encodeFrames(chunks), streamBytes };
      const state = this.#state(key);
      return this.#serial(state, () => this.#replace(state, offset, frames));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Keys with a non-empty archive in the directory, sorted. */
  async keys(): Promise<string[]> {
    this.#checkOpen("list keys");
    const keys: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        const match = entry.isFile ? ARCHIVE_NAME.exec(entry.name) : null;
        if (!match) continue;
        const info = await Deno.stat(`${this.dir}/${entry.name}`);
        if (info.size > 0) keys.push(match[1]);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return keys.sort();
  }

  /**
   * Waits for every pending append and fsyncs every archive written since
   * its last fsync. Throws the first write/fsync failure of any repo.
   */
  async flush(): Promise<void> {
    this.#checkOpen("flush");
    await this.#syncAll();
  }

  /**
   * Flushes, closes every file and stops the fsync timer; the driver is
   * unusable afterwards. Resources are released even when a flush fails
   * (the failure is thrown after).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    let failure: unknown;
    try {
      await this.#syncAll();
    } catch (error) {
      failure = error;
    }
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const state of this.#states.values()) await state.queue;
    for (const state of this.#open.values()) {
      try {
        state.file?.close();
      } catch (error) {
        failure ??= error;
      }
      state.file = undefined;
    }
    this.#open.clear();
    if (failure !== undefined) throw failure;
  }

  /**
   * Repairs an archive with damage inside signed data (the case where
   * `load` throws): copies the whole file to `<key>.bin.corrupt-<ms>`
   * (fsynced, so nothing is lost), then truncates the archive to its
   * readable prefix and reports it through `onRecover`. A file without such
   * damage is only loaded (torn tails are cut back as usual).
   */
  async salvage(key: string): Promise<SalvageResult> {
    checkRepoKey(key, "salvage");
    const state = this.#state(key);
    return await this.#serial(state, async () => {
      const { scan } = await this.#readBytes(state);
      if (!scan.error) {
        return {
          chunks: (await this.#settle(state, scan)).chunks,
          movedTo: undefined,
        };
      }
      await this.#closeFile(state);
      const movedTo = `${state.path}.corrupt-${Date.now()}`;
      await Deno.copyFile(state.path, movedTo);
      const copy = await Deno.open(movedTo, { read: true, write: true });
      try {
        await copy.syncData();
      } finally {
        copy.close();
      }
      await this.#syncDir();
      const error = scan.error;
      await this.#truncate(state, error.validBytes, {
        droppedBytes: (await Deno.stat(state.path)).size - error.validBytes,
        reason:
          `damaged data; the whole file was copied to ${movedTo} first: ${error.message}`,
      });
      state.known = true;
      state.streamLength = error.streamBytes;
      state.fileSize = error.validBytes;
      return { chunks: error.chunks, movedTo };
    });
  }

  #checkOpen(what: string): void {
    if (this.#closed) {
      throw new Error(
        `Cannot ${what}: the file storage for ${this.dir} is closed`,
      );
    }
  }

  #state(key: string): FileState {
    let state = this.#states.get(key);
    if (!state) {
      state = {
        key,
        path: `${this.dir}/${key}.bin`,
        queue: Promise.resolve(),
        pending: 0,
        known: false,
        streamLength: 0,
        fileSize: 0,
        file: undefined,
        dirty: false,
        newFile: false,
        failure: undefined,
      };
      this.#states.set(key, state);
    }
    return state;
  }

  /** Runs `op` after every earlier operation on the same key. */
  #serial<T>(state: FileState, op: () => Promise<T>): Promise<T> {
    try {
      this.#checkOpen("use the archive of " + shortKey(state.key));
    } catch (error) {
      return Promise.reject(error);
    }
    state.pending++;
    const result = state.queue.then(op).finally(() => {
      state.pending--;
    });
    state.queue = result.catch(() => {});
    return result;
  }

  /**
   * The archive's bytes and their scan (`scan.chunks` are views into them;
   * an empty scan when there is no file).
   */
  async #readBytes(
    state: FileState,
  ): Promise<{ bytes: Uint8Array; scan: ArchiveScan }> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(state.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return {
          bytes: new Uint8Array(0),
          scan: { chunks: [], validBytes: 0, streamBytes: 0 },
        };
      }
      throw error;
    }
    return {
      bytes,
      scan: parseArchive(bytes, { source: state.path, key: state.key }),
    };
  }

  /**
   * Reads the archive, cuts a torn tail, and records its lengths; throws
   * the scan's error for damage inside signed data.
   */
  async #scan(
    state: FileState,
  ): Promise<{ bytes: Uint8Array; scan: ArchiveScan }> {
    const read = await this.#readBytes(state);
    if (read.scan.error) {
      state.known = false;
      throw read.scan.error;
    }
    await this.#settle(state, read.scan);
    return read;
  }

  async #settle(state: FileState, scan: ArchiveScan): Promise<ArchiveScan> {
    if (scan.tail) {
      await this.#truncate(state, scan.validBytes, scan.tail);
    }
    state.known = true;
    state.streamLength = scan.streamBytes;
    state.fileSize = scan.validBytes;
    return scan;
  }

  /** Cuts the archive back to `validBytes` (fsynced) and reports it. */
  async #truncate(
    state: FileState,
    validBytes: number,
    tail: { droppedBytes: number; reason: string },
  ): Promise<void> {
    const file = state.file ??
      await Deno.open(state.path, { read: true, write: true });
    try {
      await file.truncate(validBytes);
      await file.syncData();
    } finally {
      if (file !== state.file) file.close();
    }
    this.#onRecover?.({
      key: state.key,
      file: state.path,
      validBytes,
      droppedBytes: tail.droppedBytes,
      reason: tail.reason,
    });
  }

  /** Throws when an earlier write or fsync of the key's archive failed. */
  #checkFailure(state: FileState, what: string): void {
    if (state.failure) {
      throw new StorageError(
        `Cannot ${what} ${state.path}: an earlier write or fsync of it failed (${
          describe(state.failure)
        }); its state on disk is unknown. Close the storage and load the repo again`,
        { key: state.key, source: state.path, cause: state.failure },
      );
    }
  }

  async #append(
    state: FileState,
    offset: number,
    frames: { bytes: Uint8Array; streamBytes: number },
  ): Promise<void> {
    this.#checkFailure(state, "append to");
    if (!state.known) await this.#scan(state);
    if (offset !== state.streamLength) {
      throw new RangeError(
        `Cannot append to ${
          shortKey(state.key)
        } at stream offset ${offset}: ${state.streamLength} bytes are stored, and a range must start where the stored bytes end`,
      );
    }
    const file = await this.#file(state);
    const bytes = frames.bytes;
    try {
      await writeAll(file, bytes);
    } catch (error) {
      // Cut the partial range off so the file ends on a signed range.
      try {
        await file.truncate(state.fileSize);
      } catch {
        state.known = false; // the next load cuts it as a torn tail
      }
      throw new StorageError(
        `Cannot append ${bytes.length} bytes to ${state.path}: the write failed (${
          describe(error)
        })`,
        { key: state.key, source: state.path, cause: error },
      );
    }
    state.fileSize += bytes.length;
    state.streamLength += frames.streamBytes;
    state.dirty = true;
    if (this.#always) await this.#sync(state);
    else this.#scheduleSync();
  }

  async #replace(
    state: FileState,
    offset: number,
    frames: { bytes: Uint8Array; streamBytes: number },
  ): Promise<void> {
    this.#checkFailure(state, "replace the tail of");
    if (!state.known) await this.#removeTemp(state);
    const { bytes, scan } = await this.#scan(state); // a torn tail is cut as on load
    const key = state.key;
    if (offset > scan.streamBytes) {
      throw replaceOffsetError(key, offset, beyondStored(scan.streamBytes));
    }
    // Where the kept prefix ends in the archive: after the frame of the
    // chunk that ends at `offset`.
    let stream = 0;
    let kept = 0;
    let last: Uint8Array | undefined;
    for (const chunk of scan.chunks) {
      if (stream >= offset) break;
      stream += chunk.length;
      kept += FRAME_HEADER + chunk.length;
      last = chunk;
    }
    if (last !== undefined) {
      // `last` holds byte `offset - 1`: it must end there, a SIGNATURE.
      checkPieceBoundary(key, offset, {
        offset: stream - last.length,
        bytes: last,
      });
    }
    if (offset === scan.streamBytes && frames.streamBytes === 0) return;

    const next = new Uint8Array(kept + frames.bytes.length);
    next.set(bytes.subarray(0, kept));
    next.set(frames.bytes, kept);
    await this.#ensureDir();
    const temp = this.#tempPath(state);
    try {
      const file = await Deno.open(temp, {
        write: true,
        create: true,
        truncate: true,
      });
      try {
        await writeAll(file, next);
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(temp, state.path); // the commit point
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new StorageError(
        `Cannot replace the tail of ${state.path} from stream offset ${offset}: writing the new archive (${next.length} bytes) to ${temp} failed (${
          describe(error)
        }); the old archive is unchanged`,
        { key, source: state.path, cause: error },
      );
    }
    // The old archive's handle points at the replaced file: drop it.
    if (state.file) {
      try {
        state.file.close();
      } catch {
        // closing a replaced file cannot lose data we keep
      }
      state.file = undefined;
    }
    this.#open.delete(key);
    state.dirty = false;
    state.newFile = false;
    state.known = true;
    state.streamLength = offset + frames.streamBytes;
    state.fileSize = next.length;
    try {
      await this.#syncDir();
    } catch (error) {
      state.failure = error as Error;
      throw new StorageError(
        `Cannot make the replaced archive ${state.path} durable: the new archive is in place, but fsync of ${this.dir} failed (${
          describe(error)
        })`,
        { key, source: state.path, cause: error },
      );
    }
  }

  #tempPath(state: FileState): string {
    return `${state.path}.tmp`;
  }

  /**
   * Removes what a `replace` interrupted by a crash left (never the
   * archive). Best effort: a leftover is harmless, the next `replace`
   * overwrites it.
   */
  async #removeTemp(state: FileState): Promise<void> {
    await Deno.remove(this.#tempPath(state)).catch(() => {});
  }

  /** The key's archive, open for appending (created if missing). */
  async #file(state: FileState): Promise<Deno.FsFile> {
    if (state.file) {
      this.#open.delete(state.key);
      this.#open.set(state.key, state);
      return state.file;
    }
    await this.#ensureDir();
    let file: Deno.FsFile;
    try {
      file = await Deno.open(state.path, { append: true, createNew: true });
      state.newFile = true;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      file = await Deno.open(state.path, { append: true });
    }
    state.file = file;
    this.#open.set(state.key, state);
    this.#evict();
    return file;
  }

  /** Closes the least recently used idle files beyond `maxOpenFiles`. */
  #evict(): void {
    let excess = this.#open.size - this.#maxOpen;
    for (const victim of this.#open.values()) {
      if (excess <= 0) break;
      if (victim.pending > 0) continue;
      excess--;
      this.#open.delete(victim.key);
      this.#serial(victim, () => this.#closeFile(victim)).catch((error) =>
        this.#reportBackground(victim, error)
      );
    }
  }

  async #closeFile(state: FileState): Promise<void> {
    if (!state.file) return;
    try {
      await this.#sync(state);
    } finally {
      state.file?.close();
      state.file = undefined;
      this.#open.delete(state.key);
    }
  }

  /** fsyncs the key's file (and the directory for a new file) if needed. */
  async #sync(state: FileState): Promise<void> {
    if (state.file && state.dirty) {
      try {
        await state.file.syncData();
      } catch (error) {
        state.failure = error as Error;
        throw new StorageError(
          `Cannot make ${state.path} durable: fsync failed (${
            describe(error)
          })`,
          { key: state.key, source: state.path, cause: error },
        );
      }
      state.dirty = false;
    }
    if (state.newFile) {
      await this.#syncDir();
      state.newFile = false;
    }
  }

  async #syncAll(): Promise<void> {
    const runs: Promise<void>[] = [];
    for (const state of this.#states.values()) {
      runs.push(this.#serial(state, async () => {
        await this.#sync(state);
        if (state.failure) throw state.failure;
      }));
    }
    const results = await Promise.allSettled(runs);
    for (const result of results) {
      if (result.status === "rejected") throw result.reason;
    }
  }

  #scheduleSync(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      for (const state of this.#states.values()) {
        if (!state.dirty && !state.newFile) continue;
        this.#serial(state, () => this.#sync(state)).catch((error) =>
          this.#reportBackground(state, error)
        );
      }
    }, this.#interval);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #reportBackground(state: FileState, error: unknown): void {
    state.failure ??= error as Error;
    this.#onError?.(error as Error);
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= Deno.mkdir(this.dir, { recursive: true }).catch(
      (error) => {
        this.#dirReady = undefined;
        throw error;
      },
    );
    return this.#dirReady;
  }

  /** fsyncs the directory so new file names survive a crash (best effort off POSIX). */
  async #syncDir(): Promise<void> {
    let dir: Deno.FsFile;
    try {
      dir = await Deno.open(this.dir, { read: true });
    } catch {
      return; // directories cannot be opened on this platform
    }
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }
}

/**
 * Opens a {@linkcode FileStorage} on `dir`, creating the directory if it is
 * missing.
 */
export async function openFileStorage(
  dir: string,
  options: FileStorageOptions = {},
): Promise<FileStorage> {
  const storage = new FileStorage(dir, options);
  await Deno.mkdir(storage.dir, { recursive: true });
  return storage;
}

/**
 * Reads an archive file without changing it — for importing a foreign
 * archive (a reference node's `.bin`): the scan's `chunks` are checked for
 * structure only, so load them with `loadInto(target, scan.chunks,
 * { trust: "foreign", verify })`. A torn tail is reported in `tail`,
 * damage in `error`; neither throws.
 */
export async function readArchiveFile(
  path: string,
  options: { key?: string } = {},
): Promise<ArchiveScan> {
  const bytes = await Deno.readFile(path);
  return parseArchive(bytes, { source: path, key: options.key });
}

/** Checks a range for `append` and frames it. */
function checkRange(
  key: string,
  offset: number,
  chunks: Uint8Array[],
): { bytes: Uint8Array; streamBytes: number } {
  const where = `for ${shortKey(key)}`;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(
      `Cannot append ${where}: offset must be a non-negative integer, got ${offset}`,
    );
  }
  if (!Array.isArray(chunks)) {
    throw new TypeError(
      `Cannot append ${where}: expected an array of chunks, got ${typeof chunks}`,
    );
  }
  if (chunks.length === 0) {
    throw new RangeError(
      `Cannot append ${where} at ${offset}: the range is empty`,
    );
  }
  let streamBytes = 0;
  for (let i = 0; i < chunks.length; i++) {
    checkChunkWidth(chunks[i], `${i} of the range at ${offset} ${where}`);
    streamBytes += chunks[i].length;
  }
  if (!isSignatureChunk(chunks[chunks.length - 1])) {
    throw new RangeError(
      `Cannot append ${where} at ${offset}: the range does not end with a SIGNATURE chunk; only verified ranges are stored`,
    );
  }
  return { bytes: encodeFrames(chunks), streamBytes };
}
