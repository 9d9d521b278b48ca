/**
 * `registrySync`: a client session that keeps a registry in sync with a
 * relay over reconnects.
 *
 * @module
 */

import { effect, signal } from "@preact/signals-core";
import { checkRepoKey } from "../registry/key.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { RebaseResult, Repo } from "../store/repo.ts";
import type { ValueSignal } from "../store/streamo.ts";
import { backoffDelay, type ReconnectOptions } from "./backoff.ts";
import type { SyncLimits } from "./limits.ts";
import type {
  ControlMessage,
  PresenceMessage,
  UnknownMessage,
} from "./messages.ts";
import { type RejectEvent, SyncPeer } from "./peer.ts";
import { CloseCode, type Transport } from "./transport.ts";

/** Connection status of a {@linkcode SyncSession}. */
export type SyncStatus = "connecting" | "open" | "reconnecting" | "closed";

/** A presence update received from the relay. */
export interface PresenceEvent {
  /** The topic. */
  topic: string;
  /** Whose presence (as claimed by its sender). */
  key?: string;
  /** The state; `null` means gone. */
  state: unknown;
  /** Milliseconds the state stays valid from receipt. */
  ttl: number;
  /** The relay's id for the sender's connection. */
  peer?: string;
  /** When the state expires (ms since epoch, local clock). */
  expiresAt: number;
}

/** An `announce` received from the relay. */
export interface AnnounceEvent {
  /** The announced repo key. */
  key: string;
  /** The topic it was announced in. */
  topic: string;
}

/** Options for {@linkcode registrySync}. */
export interface RegistrySyncOptions {
  /** The relay's WebSocket URL (`ws://` or `wss://`). */
  url?: string | URL;
  /** Opens a transport (instead of `url`); called again on each reconnect. */
  connect?: () => Transport;
  /** Which keys of the relay's catalog to sync (default: all). */
  filter?: (key: string) => boolean;
  /**
   * Content-driven discovery: called for every synced repo, and again
   * whenever what it read of the repo changes; `subscribe` keys found in
   * its data (a chat room's `members`, say).
   */
  follow?: (key: string, repo: Repo, subscribe: (key: string) => void) => void;
  /** Called with each `announce` the relay forwards. */
  onAnnounce?: (announce: AnnounceEvent) => void;
  /** Called with each presence update. */
  onPresence?: (presence: PresenceEvent) => void;
  /** Called with each rejection, by either side. */
  onReject?: (event: RejectEvent) => void;
  /**
   * Whether repos this side signs rebase when the relay holds a different
   * continuation of them — the same identity wrote from another device
   * meanwhile (default true; see `Repo.rebaseOnto`).
   */
  rebase?: boolean;
  /** Called after each such rebase (or with the error that stopped it). */
  onRebase?: (
    key: string,
    result: RebaseResult | undefined,
    error: unknown,
  ) => void;
  /** Called with each status change. */
  onStatus?: (status: SyncStatus) => void;
  /** Reconnect timing, or `false` to stay closed after a drop. */
  reconnect?: ReconnectOptions | false;
  /** Limits on what the relay sends. */
  limits?: SyncLimits;
  /**
   * Sends a `ping` this often (ms) and reconnects when nothing arrives for
   * twice as long; 0 disables (default 25,000).
   */
  keepaliveMs?: number;
  /** Bytes per outgoing data message (default 64 KiB). */
  batchBytes?: number;
}

/** Byte counts of a session, over all its connections. */
export interface SyncStats {
  /** Bytes sent. */
  readonly bytesSent: number;
  /** Bytes received. */
  readonly bytesReceived: number;
  /** Connections opened so far. */
  readonly connections: number;
}

/** Options for {@linkcode SyncSession.presence}. */
export interface PresenceOptions {
  /** Whose presence (usually your repo key). */
  key?: string;
  /** How long the state stays valid, ms (default 30,000). */
  ttl?: number;
}

/** A running sync session (see {@linkcode registrySync}). */
export interface SyncSession {
  /** Connection status, as a signal for UIs. */
  readonly status: ValueSignal<SyncStatus>;
  /** Resolves once the first connection is open; rejects if closed before. */
  readonly ready: Promise<void>;
  /** Bytes on the wire so far. */
  readonly stats: SyncStats;
  /** Syncs `key` now and after every reconnect. Throws a `TypeError` for a malformed key. */
  subscribe(key: string): void;
  /**
   * Resolves once the relay's copy of `key` has arrived on the current
   * connection (its initial replay was sent); subscribes if needed.
   */
  synced(key: string): Promise<void>;
  /** Receive announces and presence for `topic` (kept over reconnects). */
  interest(topic: string): void;
  /** Announce repo `key` in `topic` (repeated after every reconnect). */
  announce(key: string, topic: string): void;
  /**
   * Publishes ephemeral state in `topic` to everyone interested (never
   * stored; repeated after a reconnect while its ttl lasts).
   */
  presence(topic: string, state: unknown, options?: PresenceOptions): void;
  /** Calls `fn` with each presence update; returns a stop function. */
  onPresence(fn: (presence: PresenceEvent) => void): () => void;
  /** Calls `fn` with each announce; returns a stop function. */
  onAnnounce(fn: (announce: AnnounceEvent) => void): () => void;
  /** Calls `fn` with each rejection; returns a stop function. */
  onReject(fn: (event: RejectEvent) => void): () => void;
  /** Calls `fn` with each status change; returns a stop function. */
  onStatus(fn: (status: SyncStatus) => void): () => void;
  /** Closes the connection and stops reconnecting; resolves once closed. */
  close(): Promise<void>;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  done: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const d: Deferred = { promise, resolve: () => {}, done: false };
  d.resolve = () => {
    d.done = true;
    resolve();
  };
  return d;
}

/** Adds `fn` to `listeners`; returns a function that removes it. */
function listen<T>(listeners: Set<T>, fn: T): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Syncs `registry` with a relay in multi-repo mode and keeps doing so over
 * drops: it reconnects with exponential backoff and jitter, re-subscribes
 * (resuming from each repo's verified length) and repeats its `interest`,
 * `announce` and live presence.
 *
 * @example
 * ```ts ignore
 * import { registrySync, RepoRegistry } from "@streamo/streamo";
 * const registry = new RepoRegistry();
 * const session = registrySync(registry, { url: "ws://127.0.0.1:8000/" });
 * await session.ready;
 * session.subscribe(roomKey);
 * session.interest(roomKey);
 * ```
 */
export function registrySync(
  registry: RepoRegistry,
  options: RegistrySyncOptions,
): SyncSession {
  return new Session(registry, options);
}

const DEFAULT_PRESENCE_TTL = 30_000;

class Session implements SyncSession {
  readonly #registry: RepoRegistry;
  readonly #options: RegistrySyncOptions;
  readonly #status = signal<SyncStatus>("connecting");
  readonly #ready = deferred();
  readonly #readyPromise: Promise<void>;
  #rejectReady!: (error: Error) => void;
  readonly #wanted = new Set<string>();
  readonly #interests = new Set<string>();
  readonly #announces = new Map<string, { key: string; topic: string }>();
  readonly #presence = new Map<
    string,
    { state: unknown; key?: string; ttl: number; sentAt: number }
  >();
  readonly #synced = new Map<string, Deferred>();
  readonly #follows = new Map<string, () => void>();
  readonly #presenceListeners = new Set<(p: PresenceEvent) => void>();
  readonly #announceListeners = new Set<(a: AnnounceEvent) => void>();
  readonly #rejectListeners = new Set<(e: RejectEvent) => void>();
  readonly #statusListeners = new Set<(s: SyncStatus) => void>();
  #peer: SyncPeer | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #closed = false;
  #closedSent = 0;
  #closedReceived = 0;
  #connections = 0;

  constructor(registry: RepoRegistry, options: RegistrySyncOptions) {
    if (!options.url && !options.connect) {
      throw new TypeError("Cannot sync: give a url or a connect function");
    }
    this.#registry = registry;
    this.#options = options;
    this.#readyPromise = new Promise<void>((resolve, reject) => {
      this.#ready.promise.then(resolve);
      this.#rejectReady = reject;
    });
    this.#readyPromise.catch(() => {});
    if (options.onPresence) this.#presenceListeners.add(options.onPresence);
    if (options.onAnnounce) this.#announceListeners.add(options.onAnnounce);
    if (options.onReject) this.#rejectListeners.add(options.onReject);
    if (options.onStatus) this.#statusListeners.add(options.onStatus);
    this.#connect();
  }

  get status(): ValueSignal<SyncStatus> {
    return this.#status;
  }

  get ready(): Promise<void> {
    return this.#readyPromise;
  }

  get stats(): SyncStats {
    const peer = this.#peer;
    return {
      bytesSent: this.#closedSent + (peer?.bytesSent ?? 0),
      bytesReceived: this.#closedReceived + (peer?.bytesReceived ?? 0),
      connections: this.#connections,
    };
  }

  subscribe(key: string): void {
    checkRepoKey(key, "subscribe");
    if (this.#closed) return;
    this.#wanted.add(key);
    if (this.#peer?.ours !== undefined) void this.#peer.subscribe(key);
  }

  synced(key: string): Promise<void> {
    this.subscribe(key);
    return this.#syncedOf(key).promise;
  }

  interest(topic: string): void {
    if (this.#interests.has(topic)) return;
    this.#interests.add(topic);
    this.#send({ type: "interest", key: topic });
  }

  announce(key: string, topic: string): void {
    checkRepoKey(key, "announce");
    this.#announces.set(`${key} ${topic}`, { key, topic });
    this.#send({ type: "announce", key, topic });
  }

  presence(topic: string, state: unknown, options: PresenceOptions = {}): void {
    const ttl = options.ttl ?? DEFAULT_PRESENCE_TTL;
    if (options.key !== undefined) checkRepoKey(options.key, "send presence");
    const entry = { state, key: options.key, ttl, sentAt: Date.now() };
    this.#presence.set(topic, entry);
    this.#send(this.#presenceMessage(topic, entry));
  }

  onPresence(fn: (presence: PresenceEvent) => void): () => void {
    return listen(this.#presenceListeners, fn);
  }

  onAnnounce(fn: (announce: AnnounceEvent) => void): () => void {
    return listen(this.#announceListeners, fn);
  }

  onReject(fn: (event: RejectEvent) => void): () => void {
    return listen(this.#rejectListeners, fn);
  }

  onStatus(fn: (status: SyncStatus) => void): () => void {
    return listen(this.#statusListeners, fn);
  }

  async close(): Promise<void> {
    if (this.#closed) return await this.#peer?.done;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    for (const stop of this.#follows.values()) stop();
    this.#follows.clear();
    this.#setStatus("closed");
    if (!this.#ready.done) {
      this.#rejectReady(new Error("Sync session closed before it connected"));
    }
    await this.#peer?.close(CloseCode.normal, "client closed");
  }

  // ---- connections ----

  #connect(): void {
    if (this.#closed) return;
    let transport: Transport;
    try {
      transport = this.#options.connect
        ? this.#options.connect()
        : new WebSocket(this.#options.url!);
    } catch (error) {
      console.error(
        `Sync could not open a connection: ${(error as Error).message}`,
      );
      this.#retry();
      return;
    }
    this.#connections++;
    this.#peer = new SyncPeer({
      registry: this.#registry,
      transport,
      role: "client",
      limits: this.#options.limits,
      filter: this.#options.filter,
      batchBytes: this.#options.batchBytes,
      onReady: (peer) => this.#opened(peer),
      onControl: (m) => this.#control(m),
      onReject: (e) => this.#emit(this.#rejectListeners, e),
      rebase: this.#options.rebase,
      onRebase: (key, result, error) => {
        if (error) {
          console.error(`Rebase of ${key.slice(0, 8)}… failed:`, error);
        }
        this.#options.onRebase?.(key, result, error);
      },
      onLink: (key, repo) => {
        this.#wanted.add(key);
        this.#follow(key, repo);
      },
      onSynced: (key) => this.#syncedOf(key).resolve(),
      onClose: (_code, _reason, peer) => this.#dropped(peer),
    });
  }

  #syncedOf(key: string): Deferred {
    let d = this.#synced.get(key);
    if (!d) this.#synced.set(key, d = deferred());
    return d;
  }

  #opened(peer: SyncPeer): void {
    if (peer !== this.#peer || this.#closed) return;
    this.#attempt = 0;
    this.#lastHeard = Date.now();
    for (const key of this.#wanted) void peer.subscribe(key);
    for (const topic of this.#interests) {
      peer.send({ type: "interest", key: topic });
    }
    for (const a of this.#announces.values()) {
      peer.send({ type: "announce", key: a.key, topic: a.topic });
    }
    const now = Date.now();
    for (const [topic, entry] of this.#presence) {
      if (entry.sentAt + entry.ttl <= now) this.#presence.delete(topic);
      else peer.send(this.#presenceMessage(topic, entry));
    }
    this.#startKeepalive(peer);
    this.#setStatus("open");
    this.#ready.resolve();
  }

  #dropped(peer: SyncPeer): void {
    this.#closedSent += peer.bytesSent;
    this.#closedReceived += peer.bytesReceived;
    if (peer !== this.#peer) return;
    this.#peer = undefined;
    clearInterval(this.#pingTimer);
    // A new connection must deliver its own replay before `synced` resolves.
    for (const [key, d] of this.#synced) if (d.done) this.#synced.delete(key);
    if (this.#closed) return;
    if (this.#options.reconnect === false) {
      this.#closed = true;
      this.#setStatus("closed");
      if (!this.#ready.done) {
        this.#rejectReady(new Error("Sync connection closed before it opened"));
      }
      return;
    }
    this.#retry();
  }

  #retry(): void {
    this.#setStatus(this.#ready.done ? "reconnecting" : "connecting");
    const reconnect = this.#options.reconnect || {};
    const delay = backoffDelay(this.#attempt++, reconnect);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delay);
  }

  #startKeepalive(peer: SyncPeer): void {
    const every = this.#options.keepaliveMs ?? 25_000;
    clearInterval(this.#pingTimer);
    if (!(every > 0)) return;
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastHeard > 2 * every) {
        void peer.close(CloseCode.goingAway, "keepalive timed out");
        return;
      }
      peer.send({ type: "ping", id: Date.now() });
    }, every);
  }

  // ---- messages ----

  #send(message: ControlMessage): void {
    if (this.#peer?.ours !== undefined) this.#peer.send(message);
  }

  #presenceMessage(
    topic: string,
    entry: { state: unknown; key?: string; ttl: number },
  ): PresenceMessage {
    const m: PresenceMessage = {
      type: "presence",
      topic,
      state: entry.state,
      ttl: entry.ttl,
    };
    if (entry.key !== undefined) m.key = entry.key;
    return m;
  }

  #control(m: ControlMessage | UnknownMessage): void {
    this.#lastHeard = Date.now();
    if ("unknown" in m) return;
    if (m.type === "announce") {
      this.#emit(this.#announceListeners, { key: m.key, topic: m.topic });
    } else if (m.type === "presence") {
      const event: PresenceEvent = {
        topic: m.topic,
        state: m.state,
        ttl: m.ttl,
        expiresAt: Date.now() + m.ttl,
      };
      if (m.key !== undefined) event.key = m.key;
      if (m.peer !== undefined) event.peer = m.peer;
      this.#emit(this.#presenceListeners, event);
    }
  }

  #emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        console.error("A sync listener failed:", error);
      }
    }
  }

  #setStatus(status: SyncStatus): void {
    if (this.#status.peek() === status) return;
    this.#status.value = status;
    this.#emit(this.#statusListeners, status);
  }

  #follow(key: string, repo: Repo): void {
    const follow = this.#options.follow;
    if (!follow || this.#follows.has(key) || this.#closed) return;
    const subscribe = (found: string) => {
      queueMicrotask(() => {
        try {
          this.subscribe(found);
        } catch (error) {
          console.error(
            `follow(${key.slice(0, 8)}…) found a bad key: ${
              (error as Error).message
            }`,
          );
        }
      });
    };
    this.#follows.set(
      key,
      effect(() => {
        try {
          follow(key, repo, subscribe);
        } catch (error) {
          console.error(`follow(${key.slice(0, 8)}…) failed:`, error);
        }
      }),
    );
  }
}
