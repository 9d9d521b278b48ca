/**
 * Persistence for verified streams: the {@linkcode StorageDriver}
 * interface, the archive format, and loading stored chunks into a store.
 * Runtime-neutral. Drivers live in runtime-specific entries:
 * `mod.deno.ts` (file archives, Deno KV) and `mod.browser.ts` (IndexedDB).
 *
 * @example
 * ```ts
 * import { loadInto, parseArchive } from "./mod.ts";
 * import { encodeFrames, Repo, Signer } from "../mod.ts";
 *
 * const repo = new Repo();
 * await repo.attachSigner(new Signer("alice", "pw", 1), "chat");
 * repo.set({ name: "alice" });
 * await repo.whenSigned();
 *
 * const scan = parseArchive(encodeFrames(repo.chunksBetween(0)));
 * const copy = new Repo({ key: repo.key });
 * loadInto(copy, scan.chunks);
 * console.log(copy.get("name")); // "alice"
 * ```
 *
 * @module
 */

export type { StorageDriver } from "./types.ts";
export {
  type RecoveryEvent,
  StorageError,
  type StorageErrorOptions,
} from "./errors.ts";
export {
  loadInto,
  type LoadOptions,
  type LoadRange,
  type LoadResult,
  type LoadTarget,
  streamLength,
} from "./load.ts";
export {
  type ArchiveScan,
  type ArchiveTail,
  encodeArchive,
  parseArchive,
  type ParseArchiveOptions,
} from "./archive.ts";
export { isRepoKey } from "./keys.ts";
