/**
 * Limits a sync peer enforces on what the other side sends.
 *
 * @module
 */

import { MAX_CHUNK_LENGTH } from "../codec/width.ts";
import { DEFAULT_MAX_PENDING_BYTES } from "../store/ingest.ts";

/** Limits on one connection's input (and, for a relay, on connections). */
export interface SyncLimits {
  /**
   * Longest chunk frame accepted (default and most useful: 69 bytes, the
   * longest well-formed chunk).
   */
  maxFrameBytes?: number;
  /** Most bytes held per repo before a signature (default 1 MiB). */
  maxPendingBytes?: number;
  /** Largest message accepted (default 16 MiB); a bigger one closes the connection. */
  maxMessageBytes?: number;
  /** Most repos one connection may sync (default 1,000). */
  maxReposPerConnection?: number;
  /** Most `interest` topics per connection (default 100). */
  maxInterestsPerConnection?: number;
  /** Rejections in a minute after which the connection is closed (default 30). */
  maxRejectsPerMinute?: number;
  /** Relay only: most concurrent connections (default 1,000). */
  maxConnections?: number;
  /** Largest presence `state` as JSON text (default 1 KiB). */
  maxPresenceBytes?: number;
  /** Longest presence `ttl` honoured, ms (default 5 minutes). */
  maxPresenceTtlMs?: number;
}

/** Every limit, with defaults filled in. */
export type ResolvedLimits = Required<SyncLimits>;

/** The defaults of {@linkcode SyncLimits}. */
export const DEFAULT_LIMITS: ResolvedLimits = {
  maxFrameBytes: MAX_CHUNK_LENGTH,
  maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
  maxMessageBytes: 16 * 1024 * 1024,
  maxReposPerConnection: 1000,
  maxInterestsPerConnection: 100,
  maxRejectsPerMinute: 30,
  maxConnections: 1000,
  maxPresenceBytes: 1024,
  maxPresenceTtlMs: 5 * 60 * 1000,
};

/** `limits` with defaults for what it leaves out. */
export function resolveLimits(limits: SyncLimits = {}): ResolvedLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(limits)) {
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(
        `Cannot use sync limit ${name}: expected a positive number, got ${value}`,
      );
    }
    (out as Record<string, number>)[name] = value;
  }
  return out;
}
