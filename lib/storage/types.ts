/**
 * The storage driver interface: what a driver persists is the verified
 * prefix of each repo's stream, nothing else.
 *
 * @module
 */

/**
 * Persists verified ranges of repo streams, keyed by the repo's public key
 * (66 lower-case hex characters).
 *
 * A repo's stored bytes are always a prefix of its stream made of whole
 * chunks, ending right after a SIGNATURE chunk that verified: callers only
 * ever `append` a range that was verified, at the offset where the stored
 * bytes end, and `replace` a tail after a rebase.
 */
export interface StorageDriver {
  /** Human-readable name for logs ("file", "kv", "indexeddb", ...). */
  readonly name: string;
  /**
   * The stored chunks of `key`'s stream, in order (empty when none). The
   * returned chunks are well-formed codes; a driver that found a torn tail
   * has already cut it back to the last verified range (and reports it
   * through its own `onRecover` option).
   */
  load(key: string): Promise<Uint8Array[]>;
  /**
   * Persists `chunks`, a verified range that starts at byte `offset` of the
   * stream (which must equal the stored length). Resolves once the driver
   * has accepted the range under its durability policy.
   */
  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void>;
  /**
   * Replaces everything stored for `key` from stream byte `offset` on with
   * `chunks`: what a rebase needs (`Repo.onRewrite` hands over exactly this
   * `{ offset, chunks }`), when the unsynced tail of this device lost the
   * race to another device of the same identity and was rewritten on top
   * of the accepted history.
   *
   * **The only operation that removes verified stored data** (recovering
   * a torn tail only cuts bytes that never formed a verified range), and
   * only data a rebase replaced: the bytes before `offset` — the history
   * both sides share — are kept as they are.
   *
   * - `offset` must be 0 or the end of a stored SIGNATURE chunk (a chunk
   *   boundary right after a verified range), at most the stored length.
   * - `chunks` is a verified range ending with a SIGNATURE chunk, or an
   *   empty array to truncate the stored stream to `offset`.
   * - **Atomic:** after a crash at any point, a load returns either the
   *   old stream or the new one, never a mix of the two and never less
   *   than the first `offset` bytes. Each driver documents how.
   * - Runs in call order with the key's `append`s; resolves once the new
   *   stream is committed, as durably as the driver can make it (the file
   *   driver fsyncs even in its interval mode). Later appends continue at
   *   `offset` + the replacement's length.
   *
   * Throws a `TypeError` for a bad key or chunk type, a `RangeError` for an
   * offset that is beyond the stored length, inside a chunk or not right
   * after a SIGNATURE chunk, or a non-empty range that does not end with
   * one, and a `SyntaxError` for a malformed chunk — in every such case
   * nothing is changed. A driver error (I/O, damaged stored data, another
   * writer) rejects with the driver's error and leaves the old stream or
   * the new one loadable, as a crash would.
   */
  replace(key: string, offset: number, chunks: Uint8Array[]): Promise<void>;
  /** Keys with stored bytes. */
  keys(): Promise<string[]>;
  /** Makes everything appended so far durable. */
  flush(): Promise<void>;
  /** Flushes and releases resources; the driver is unusable afterwards. */
  close(): Promise<void>;
}
