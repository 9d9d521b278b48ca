/**
 * Reactive stores over the byte codec: `Streamo`, and `Repo`, its signed
 * commit log.
 *
 * @module
 */

export {
  type PathKey,
  Streamo,
  type StreamoOptions,
  type ValueSignal,
} from "./streamo.ts";
export {
  type Commit,
  type CommitRecord,
  Repo,
  type RepoOptions,
  type RepoSigner,
  type VerifiedRange,
} from "./repo.ts";
export { readCommitRecord } from "./commit_record.ts";
export {
  DEFAULT_MAX_PENDING_BYTES,
  Ingest,
  type IngestOptions,
} from "./ingest.ts";
export {
  type MergeConflict,
  type MergeOptions,
  type MergeResult,
  mergeValues,
  sameValue,
} from "./merge.ts";
export type { RebaseResult, RewrittenRange } from "./repo.ts";
