/**
 * Persistence for Deno: everything in `mod.ts` plus the file archive and
 * Deno KV drivers.
 *
 * @module
 */

export * from "./mod.ts";
export {
  DEFAULT_MAX_OPEN_FILES,
  DEFAULT_SYNC_INTERVAL,
  FileStorage,
  type FileStorageOptions,
  openFileStorage,
  readArchiveFile,
  type SalvageResult,
} from "./file_storage.deno.ts";
export {
  DEFAULT_KV_PIECE_BYTES,
  KV_MAX_VALUE_BYTES,
  KvStorage,
  type KvStorageOptions,
  openKvStorage,
} from "./kv_storage.deno.ts";
