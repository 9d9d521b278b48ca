/**
 * What storage drivers report: the `StorageError` for stored data that
 * cannot be loaded, and the event a driver emits when it cuts a torn tail.
 *
 * @module
 */

/** Options for {@linkcode StorageError}: where the failure is and what is readable. */
export interface StorageErrorOptions extends ErrorOptions {
  /** The repo key whose stored data failed, when known. */
  key?: string;
  /** The file (or KV/IndexedDB location) the data came from. */
  source?: string;
  /** Byte offset in `source` of the first bad byte (frame or piece). */
  offset?: number;
  /**
   * The readable prefix: chunks up to the last SIGNATURE before the
   * failure, safe to load.
   */
  chunks?: Uint8Array[];
  /** Bytes of `source` that hold `chunks`. */
  validBytes?: number;
  /** Stream bytes in `chunks`. */
  streamBytes?: number;
}

/**
 * Stored data is damaged in a way that is not a torn tail: a frame or piece
 * inside signed data is malformed. The message names the source and byte
 * offset; `chunks` holds the readable prefix (everything up to the last
 * SIGNATURE before the damage), so a caller can still load that much. The
 * driver leaves the damaged data untouched.
 *
 * @example
 * ```ts
 * import { StorageError } from "./errors.ts";
 * const error = new StorageError("Cannot load a.bin: length 0 at byte 8", {
 *   source: "a.bin",
 *   offset: 8,
 *   chunks: [],
 * });
 * console.log(error.name, error.offset); // "StorageError" 8
 * ```
 */
export class StorageError extends Error {
  /** The repo key whose stored data failed, when known. */
  readonly key?: string;
  /** The file (or KV/IndexedDB location) the data came from. */
  readonly source?: string;
  /** Byte offset in `source` of the first bad byte. */
  readonly offset?: number;
  /** The readable prefix: chunks up to the last SIGNATURE before the failure. */
  readonly chunks: Uint8Array[];
  /** Bytes of `source` that hold `chunks`. */
  readonly validBytes: number;
  /** Stream bytes in `chunks`. */
  readonly streamBytes: number;

  /** Creates a `StorageError`; `options` locate the failure. */
  constructor(message: string, options: StorageErrorOptions = {}) {
    super(message, options);
    this.name = "StorageError";
    this.key = options.key;
    this.source = options.source;
    this.offset = options.offset;
    this.chunks = options.chunks ?? [];
    this.validBytes = options.validBytes ?? 0;
    this.streamBytes = options.streamBytes ??
      this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }
}

/**
 * A driver found a torn tail (bytes after the last complete signed range)
 * and cut the stored data back to `validBytes`.
 */
export interface RecoveryEvent {
  /** The repo key. */
  key: string;
  /** The file (or store location) that was cut back. */
  file: string;
  /** Bytes of the file kept: whole frames up to the last SIGNATURE. */
  validBytes: number;
  /** Bytes removed after `validBytes`. */
  droppedBytes: number;
  /** What the dropped tail was (partial frame, unsigned chunks, ...). */
  reason: string;
}
