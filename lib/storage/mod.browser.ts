/**
 * Persistence for browsers: everything in `mod.ts` plus the IndexedDB
 * driver. No Deno APIs.
 *
 * @module
 */

export * from "./mod.ts";
export {
  DEFAULT_IDB_PIECE_BYTES,
  IDB_SCHEMA_VERSION,
  type IdbDatabaseLike,
  type IdbFactoryLike,
  type IdbKeyRangeLike,
  type IdbObjectStoreLike,
  type IdbRequestLike,
  IdbStorage,
  type IdbStorageOptions,
  type IdbTransactionLike,
  openIdbStorage,
} from "./idb_storage.browser.ts";
