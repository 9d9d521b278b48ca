/**
 * Live fan-out between isolates that share one storage (Deno Deploy's
 * isolates over Deno KV, or workers over one KV file): every verified range
 * of every repo in the registry is posted on a `BroadcastChannel`, and the
 * ranges other isolates post are ingested — verified again, never trusted.
 * Runtime-neutral: `BroadcastChannel` is a web API.
 *
 * @module
 */

import { encodeFrames } from "../codec/frames.ts";
import { isRepoKey } from "../registry/key.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { StorageDriver } from "../storage/types.ts";
import { Ingest } from "../store/ingest.ts";
import type { Repo, VerifiedRange } from "../store/repo.ts";
import { framedBytes } from "./frame_range.ts";

/** What isolates post to each other: one verified range of one repo. */
export interface RangeBroadcast {
  /** The repo's key (66 hex characters). */
  key: string;
  /** Stream offset of the range's first byte. */
  offset: number;
  /** The range's chunks as chunk frames (`[u32 LE length][chunk]…`). */
  frames: Uint8Array;
}

/** The part of `BroadcastChannel` the fan-out uses. */
export interface BroadcastChannelLike {
  /** Sends a message to the other channels of the same name. */
  postMessage(message: unknown): void;
  /** Called with each message from another channel. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Stops receiving. */
  close(): void;
}

/** Options for {@linkcode BroadcastFanout}. */
export interface BroadcastFanoutOptions {
  /**
   * The channel: a name (default `"streamo"`; the fan-out opens a
   * `BroadcastChannel` and closes it on `close`), or a channel object (left
   * open on `close`).
   */
  channel?: string | BroadcastChannelLike;
  /**
   * The shared storage gaps are healed from (default the registry's):
   * when a range arrives whose offset is beyond the local copy (a
   * broadcast was missed), the missing bytes are read from it.
   */
  storage?: StorageDriver;
  /**
   * Whether a range for a repo the registry has not opened opens it
   * (loading it from storage) — default true: every isolate carries every
   * repo, like one relay does.
   */
  open?: (key: string) => boolean;
  /**
   * First wait (ms) before reading storage again for a gap it could not fill
   * yet (the writer may not have committed it); doubles per attempt
   * (default 50).
   */
  healRetryMs?: number;
  /** Attempts at filling one gap before giving up on it (default 8). */
  healAttempts?: number;
  /**
   * Called with what went wrong (a range that does not verify, a fork, a
   * storage read that failed); default `console.error`.
   */
  onError?: (error: Error, key: string | undefined) => void;
}

/** Counters of a {@linkcode BroadcastFanout}. */
export interface FanoutStats {
  /** Ranges posted (verified here first: from a client or signed here). */
  posted: number;
  /** Messages received from other isolates. */
  received: number;
  /** Received ranges ingested. */
  applied: number;
  /** Received ranges this isolate already had. */
  duplicates: number;
  /** Gaps filled from storage. */
  healed: number;
  /** Messages or ranges refused (malformed, not verifying, forks). */
  errors: number;
}

interface Waiting {
  messages: RangeBroadcast[];
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

// Bytes one received range may hold pending before its signature.
const MAX_RANGE_BYTES = 64 * 1024 * 1024;
// Out-of-order ranges kept per repo while a gap is being filled.
const MAX_WAITING = 1024;

function asBroadcast(data: unknown): RangeBroadcast | undefined {
  if (data === null || typeof data !== "object") return undefined;
  const { key, offset, frames } = data as Record<string, unknown>;
  if (
    typeof key !== "string" || !isRepoKey(key) ||
    typeof offset !== "number" || !Number.isSafeInteger(offset) ||
    offset < 0 || !(frames instanceof Uint8Array)
  ) return undefined;
  return { key, offset, frames };
}

/**
 * Fans verified ranges out between isolates that serve the same repos from
 * one shared storage (see the module documentation):
 *
 * - every range that becomes verified here — from a client, or signed here
 *   — is posted as `{key, offset, frames}`;
 * - a range from another isolate goes through an `Ingest` (so it must
 *   verify), and is never posted again (no echo storms); the registry then
 *   persists it, which a shared storage with idempotent appends (Deno KV)
 *   resolves as already done;
 * - a range beyond the local copy (a missed broadcast) is held while the
 *   gap is read from the shared storage.
 *
 * @example
 * ```ts ignore
 * const storage = await openKvStorage(); // Deno.openKv() on Deno Deploy
 * const registry = new RepoRegistry({ storage });
 * const fanout = new BroadcastFanout(registry, { channel: "streamo" });
 * // … serve the relay; on shutdown:
 * await fanout.close();
 * ```
 */
export class BroadcastFanout {
  readonly #registry: RepoRegistry;
  readonly #channel: BroadcastChannelLike;
  readonly #ownsChannel: boolean;
  readonly #storage: StorageDriver | undefined;
  readonly #open: (key: string) => boolean;
  readonly #retryMs: number;
  readonly #attempts: number;
  readonly #onError: (error: Error, key: string | undefined) => void;
  readonly #stops: (() => void)[] = [];
  readonly #watched = new Set<Repo>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, Waiting>();
  readonly #stats: FanoutStats = {
    posted: 0,
    received: 0,
    applied: 0,
    duplicates: 0,
    healed: 0,
    errors: 0,
  };
  // The repo being fed from the channel or storage: its ranges are not posted.
  #applying: Repo | undefined;
  #closed = false;

  /** Starts fanning `registry`'s ranges out (and in). */
  constructor(registry: RepoRegistry, options: BroadcastFanoutOptions = {}) {
    this.#registry = registry;
    const channel = options.channel ?? "streamo";
    if (typeof channel === "string") {
      if (typeof BroadcastChannel !== "function") {
        throw new TypeError(
          "Cannot fan out between isolates: this runtime has no BroadcastChannel",
        );
      }
      this.#channel = new BroadcastChannel(channel);
      this.#ownsChannel = true;
    } else {
      this.#channel = channel;
      this.#ownsChannel = false;
    }
    this.#storage = options.storage ?? registry.storage;
    this.#open = options.open ?? (() => true);
    this.#retryMs = options.healRetryMs ?? 50;
    this.#attempts = options.healAttempts ?? 8;
    this.#onError = options.onError ??
      ((error) => console.error("Broadcast fan-out:", error.message));
    this.#channel.onmessage = (event) => this.#receive(event.data);
    for (const [key, repo] of registry) this.#watch(repo, key);
    this.#stops.push(registry.onOpen((repo, key) => this.#watch(repo, key)));
  }

  /** Counters so far (a snapshot). */
  get stats(): FanoutStats {
    return { ...this.#stats };
  }

  /**
   * Stops posting and receiving, drops ranges still waiting for a gap, and
   * resolves once the ranges being ingested are done.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.onmessage = null;
    if (this.#ownsChannel) this.#channel.close();
    for (const stop of this.#stops) stop();
    for (const waiting of this.#waiting.values()) clearTimeout(waiting.timer);
    this.#waiting.clear();
    await Promise.all(this.#queues.values());
  }

  #watch(repo: Repo, key: string): void {
    if (this.#closed || this.#watched.has(repo)) return;
    this.#watched.add(repo);
    const stop = repo.onVerified((range) => this.#post(repo, key, range));
    this.#stops.push(() => {
      stop();
      this.#watched.delete(repo);
    });
  }

  #post(repo: Repo, key: string, range: VerifiedRange): void {
    if (this.#closed || this.#applying === repo) return;
    const message: RangeBroadcast = {
      key,
      offset: range.offset,
      frames: encodeFrames(range.chunks),
    };
    try {
      this.#channel.postMessage(message);
      this.#stats.posted++;
    } catch (error) {
      this.#fail(
        new Error(
          `Cannot post ${range.offset}.. of ${
            key.slice(0, 8)
          }… to the other isolates: ${(error as Error).message}`,
          { cause: error },
        ),
        key,
      );
    }
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    this.#stats.received++;
    const message = asBroadcast(data);
    if (!message) {
      this.#fail(
        new TypeError(
          "Cannot use a broadcast message: expected {key, offset, frames} with a repo key, a non-negative integer offset and frame bytes",
        ),
        undefined,
      );
      return;
    }
    this.#serial(message.key, () => this.#apply(message));
  }

  #serial(key: string, op: () => Promise<void> | void): void {
    const run = (this.#queues.get(key) ?? Promise.resolve())
      .then(op)
      .catch((error) => this.#fail(error as Error, key));
    this.#queues.set(key, run);
    run.then(() => {
      if (this.#queues.get(key) === run) this.#queues.delete(key);
    });
  }

  async #apply(message: RangeBroadcast): Promise<void> {
    const { key } = message;
    let repo = this.#registry.get(key);
    if (!repo) {
      if (!this.#open(key)) return;
      try {
        repo = await this.#registry.open(key);
      } catch (error) {
        throw new Error(
          `Cannot take a broadcast range of ${
            key.slice(0, 8)
          }…: opening the repo failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    if (this.#closed) return;
    const bytes = framedBytes(message.frames);
    if (bytes <= 0) {
      this.#fail(
        new SyntaxError(
          `Cannot take a broadcast range of ${
            key.slice(0, 8)
          }… at ${message.offset}: its frames are malformed`,
        ),
        key,
      );
      return;
    }
    if (message.offset + bytes <= repo.signedLength) {
      this.#stats.duplicates++;
      return;
    }
    if (message.offset > repo.signedLength) {
      await this.#hold(repo, message);
      return;
    }
    this.#take(repo, message);
    this.#takeWaiting(repo);
  }

  /** Ingests a range that starts within (or right after) the local copy. */
  #take(repo: Repo, message: RangeBroadcast): void {
    if (this.#feed(repo, message.offset, (i) => i.write(message.frames))) {
      this.#stats.applied++;
    }
  }

  #feed(repo: Repo, from: number, feed: (ingest: Ingest) => void): boolean {
    this.#applying = repo;
    try {
      const ingest = new Ingest(repo, {
        from,
        maxPendingBytes: MAX_RANGE_BYTES,
      });
      feed(ingest);
      ingest.end();
      return true;
    } catch (error) {
      this.#fail(
        new Error(
          `Refused a range of ${
            repo.key!.slice(0, 8)
          }… from another isolate at ${from}: ${(error as Error).message}`,
          { cause: error },
        ),
        repo.key,
      );
      return false;
    } finally {
      this.#applying = undefined;
    }
  }

  /** Keeps a range past a gap, and fills the gap from storage. */
  async #hold(repo: Repo, message: RangeBroadcast): Promise<void> {
    const key = message.key;
    let waiting = this.#waiting.get(key);
    if (!waiting) {
      waiting = { messages: [], attempts: 0, timer: undefined };
      this.#waiting.set(key, waiting);
    }
    if (waiting.messages.length < MAX_WAITING) waiting.messages.push(message);
    if (waiting.timer === undefined && waiting.attempts === 0) {
      await this.#heal(repo, key);
    }
  }

  /** Ingests waiting ranges that now connect to the local copy. */
  #takeWaiting(repo: Repo): void {
    const key = repo.key!;
    const waiting = this.#waiting.get(key);
    if (!waiting) return;
    waiting.messages.sort((a, b) => a.offset - b.offset);
    const later: RangeBroadcast[] = [];
    for (const message of waiting.messages) {
      const end = message.offset + framedBytes(message.frames);
      if (end <= repo.signedLength) this.#stats.duplicates++;
      else if (message.offset <= repo.signedLength) this.#take(repo, message);
      else later.push(message);
    }
    waiting.messages = later;
    if (later.length === 0) {
      clearTimeout(waiting.timer);
      this.#waiting.delete(key);
    }
  }

  /** Reads what the local copy lacks from storage; retries while it lacks it too. */
  async #heal(repo: Repo, key: string): Promise<void> {
    const waiting = this.#waiting.get(key);
    if (!waiting || this.#closed) return;
    waiting.timer = undefined;
    waiting.attempts++;
    const storage = this.#storage;
    if (storage) {
      let chunks: Uint8Array[] = [];
      try {
        chunks = await storage.load(key);
      } catch (error) {
        this.#fail(
          new Error(
            `Cannot fill a gap in ${
              key.slice(0, 8)
            }… from storage (${storage.name}): ${(error as Error).message}`,
            { cause: error },
          ),
          key,
        );
      }
      if (this.#closed) return;
      let at = 0;
      let i = 0;
      const have = repo.signedLength;
      while (i < chunks.length && at < have) at += chunks[i++].length;
      if (i < chunks.length && at === have) {
        const rest = chunks.slice(i);
        if (this.#feed(repo, have, (ingest) => ingest.writeChunks(rest))) {
          this.#stats.healed++;
        }
      }
      this.#takeWaiting(repo);
    }
    const left = this.#waiting.get(key);
    if (!left) return;
    if (!storage || left.attempts >= this.#attempts) {
      this.#waiting.delete(key);
      const first = left.messages[0]?.offset;
      this.#fail(
        new RangeError(
          `Gave up on ${left.messages.length} broadcast range(s) of ${
            key.slice(0, 8)
          }…: bytes ${repo.signedLength}..${first} never arrived ${
            storage
              ? `(not broadcast, and not in storage after ${left.attempts} reads)`
              : "(no broadcast, and no storage to read them from)"
          }; the next range for it tries again`,
        ),
        key,
      );
      return;
    }
    left.timer = setTimeout(() => {
      left.timer = undefined;
      this.#serial(key, () => this.#heal(repo, key));
    }, this.#retryMs * 2 ** (left.attempts - 1));
  }

  #fail(error: Error, key: string | undefined): void {
    this.#stats.errors++;
    try {
      this.#onError(error, key);
    } catch (thrown) {
      console.error("A broadcast fan-out onError listener failed:", thrown);
    }
  }
}
