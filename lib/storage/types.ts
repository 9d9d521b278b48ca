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
 * bytes end.
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
  /** Keys with stored bytes. */
  keys(): Promise<string[]>;
  /** Makes everything appended so far durable. */
  flush(): Promise<void>;
  /** Flushes and releases resources; the driver is unusable afterwards. */
  close(): Promise<void>;
}
