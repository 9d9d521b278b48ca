/**
 * The repos a peer holds: {@linkcode RepoRegistry}, keyed by repo key, and
 * the key checks every layer above uses.
 *
 * @module
 */

export {
  type OpenListener,
  type RegistryErrorContext,
  RepoRegistry,
  type RepoRegistryOptions,
} from "./registry.ts";
export { checkRepoKey, isRepoKey } from "./key.ts";
export { SharedWriter, type SharedWriterOptions } from "./shared_writer.ts";
export type { StorageDriver } from "../storage/types.ts";
