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
  /**
   * Relay only: messages a connection may send per second, sustained
   * (default 1,000), with bursts of up to two seconds' worth. Above it the
   * relay sends `reject {reason: "rate"}` and closes the connection with
   * 1008.
   */
  maxMessagesPerSecond?: number;
  /**
   * Relay only: bytes a connection may send per second, sustained (default
   * 32 MiB), with bursts of up to two seconds' worth; enforced like
   * `maxMessagesPerSecond`.
   */
  maxBytesPerSecond?: number;
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
  maxMessagesPerSecond: 1000,
  maxBytesPerSecond: 32 * 1024 * 1024,
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

/** Seconds' worth of a rate a {@linkcode RateMeter} lets through at once. */
export const RATE_BURST_SECONDS = 2;

/**
 * Token buckets for one connection's input: `messagesPerSecond` and
 * `bytesPerSecond` sustained, with bursts of up to
 * {@linkcode RATE_BURST_SECONDS} seconds' worth (the buckets start full).
 *
 * @example
 * ```ts
 * import { RateMeter } from "./limits.ts";
 * const meter = new RateMeter(10, 1000);
 * let passed = 0;
 * while (meter.take(1) === undefined) passed++;
 * console.log(passed); // 20: two seconds' worth at once, then refused
 * ```
 */
export class RateMeter {
  readonly #messageRate: number;
  readonly #byteRate: number;
  readonly #now: () => number;
  #messages: number;
  #bytes: number;
  #at: number;

  /**
   * A meter allowing `messagesPerSecond` messages and `bytesPerSecond`
   * bytes per second; `now` is a clock in ms (default `performance.now`).
   */
  constructor(
    messagesPerSecond: number,
    bytesPerSecond: number,
    now: () => number = () => performance.now(),
  ) {
    if (!(messagesPerSecond > 0) || !(bytesPerSecond > 0)) {
      throw new RangeError(
        `Cannot meter a connection: rates must be positive, got ${messagesPerSecond} messages/s and ${bytesPerSecond} bytes/s`,
      );
    }
    this.#messageRate = messagesPerSecond;
    this.#byteRate = bytesPerSecond;
    this.#now = now;
    this.#messages = messagesPerSecond * RATE_BURST_SECONDS;
    this.#bytes = bytesPerSecond * RATE_BURST_SECONDS;
    this.#at = now();
  }

  /**
   * Counts one message of `bytes` bytes. Returns `undefined` if it is within
   * the rates, else why not (and counts nothing).
   */
  take(bytes: number): string | undefined {
    const now = this.#now();
    const seconds = Math.max(0, now - this.#at) / 1000;
    this.#at = now;
    const burst = RATE_BURST_SECONDS;
    this.#messages = Math.min(
      this.#messageRate * burst,
      this.#messages + seconds * this.#messageRate,
    );
    this.#bytes = Math.min(
      this.#byteRate * burst,
      this.#bytes + seconds * this.#byteRate,
    );
    if (this.#messages < 1) {
      return `more than ${this.#messageRate} messages per second`;
    }
    if (this.#bytes < bytes) {
      return `more than ${this.#byteRate} bytes per second`;
    }
    this.#messages -= 1;
    this.#bytes -= bytes;
    return undefined;
  }
}
