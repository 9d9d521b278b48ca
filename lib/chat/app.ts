/**
 * `ChatApp`: one chat client (SPEC §7) — a registry kept in sync with the
 * relay, the room and its members' repos, your own repo once signed in, and
 * presence. Runtime-neutral: the browser gives it an IndexedDB-backed
 * registry and identity store; tests give it in-memory ones.
 *
 * @module
 */

import { batch, computed, signal } from "@preact/signals-core";
import type { RepoRegistry } from "../registry/registry.ts";
import type { Commit, RebaseResult, Repo } from "../store/repo.ts";
import type { ValueSignal } from "../store/streamo.ts";
import type {
  PresenceEvent,
  RegistrySyncOptions,
  SyncSession,
  SyncStatus,
} from "../sync/client.ts";
import {
  type ChatIdentity,
  deriveIdentity,
  type DeriveProgress,
  type IdentityStore,
  KeySigner,
  MemoryIdentityStore,
} from "./identity.ts";
import {
  CHAT_NAME,
  type ChatLine,
  type ChatMember,
  type ChatMessage,
  DEFAULT_HISTORY_LIMIT,
  initProfile,
  postMessage,
  roomHistory,
  roomMemberList,
  roomMembers,
} from "./model.ts";
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_PRESENCE_TIMEOUT_MS,
  parsePresence,
  type PresenceEntry,
  PresenceTracker,
} from "./presence.ts";
import type {
  ChatView,
  ConnectionStatus,
  RebaseNotice,
  SignedIn,
} from "./view.ts";

/** The room's settings, as the server announces them. */
export interface ChatConfig {
  /** The room's key. */
  roomKey: string;
  /** Repo name participants derive keys for (default `chat`). */
  name?: string;
  /** PBKDF2 iterations (`/api/info` `keyIterations`). */
  keyIterations: number;
  /** Messages shown at most (default 200). */
  historyLimit?: number;
  /** Presence heartbeat interval, ms (default 10 s). */
  heartbeatMs?: number;
  /** Silence after which a participant is gone, ms (default 25 s). */
  presenceTimeoutMs?: number;
}

/** Starts a sync session: `registrySync` from `lib/sync` fits. */
export type SyncFactory = (
  registry: RepoRegistry,
  options: RegistrySyncOptions,
) => SyncSession;

/** Options for {@linkcode ChatApp}. */
export interface ChatAppOptions {
  /** The room's settings. */
  config: ChatConfig;
  /** Where repos live (with a storage driver, they survive reloads). */
  registry: RepoRegistry;
  /** Starts the sync session. */
  sync: SyncFactory;
  /** The relay's WebSocket URL. */
  url: string | URL;
  /** Extra sync options (reconnect timing, keepalive…). */
  syncOptions?: Partial<RegistrySyncOptions>;
  /** Where "remember this device" keeps the key (default: memory only). */
  identities?: IdentityStore;
  /** Told when a key is remembered or forgotten (e.g. to set a flag). */
  onRemember?: (remembered: boolean) => void;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** How long a "typing" state lasts after the last keystroke. */
const TYPING_IDLE_MS = 4_000;
/** While typing, the state is re-sent at most this often. */
const TYPING_RESEND_MS = 2_000;
/** How often expired presence is swept. */
const SWEEP_MS = 500;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Messages in the value committed by `commit` (0 for none). */
function messagesIn(repo: Repo, commit: Commit | undefined): number {
  if (!commit) return 0;
  const length = repo.clone(commit.dataAddress).get("messages", "length");
  return typeof length === "number" ? length : 0;
}

/**
 * What a rebase of a chat profile did, in messages: how many the other
 * device wrote since the fork (adopted first) and how many of this device's
 * were re-committed after them.
 */
function summarizeRebase(
  repo: Repo,
  result: RebaseResult,
): { theirs: number; ours: number } {
  const base = messagesIn(
    repo,
    repo.history().find((c) => c.address < result.forkLength),
  );
  // The merge commit sits on their head; without one, theirs is the head.
  const merge = result.commit === undefined
    ? undefined
    : repo.commitAt(result.commit);
  const theirsHead = merge
    ? (merge.parent === undefined ? undefined : repo.commitAt(merge.parent))
    : repo.lastCommit;
  const theirs = messagesIn(repo, theirsHead);
  const merged = messagesIn(repo, repo.lastCommit);
  return {
    theirs: Math.max(0, theirs - base),
    ours: Math.max(0, merged - theirs),
  };
}

/**
 * A chat client. Call `start()` once; read its signals (the {@linkcode ChatView}
 * interface) from UI code; `close()` stops everything.
 *
 * @example
 * ```ts ignore
 * const app = new ChatApp({ config, registry, sync: registrySync, url });
 * await app.start();
 * await app.signIn("alice", "correct horse", true);
 * app.send("hello");
 * ```
 */
export class ChatApp implements ChatView {
  readonly #options: ChatAppOptions;
  readonly #config: Required<ChatConfig>;
  readonly #registry: RepoRegistry;
  readonly #identities: IdentityStore;
  readonly #now: () => number;
  readonly #status = signal<ConnectionStatus>("idle");
  readonly #network = signal(true);
  readonly #loaded = signal(false);
  readonly #me = signal<SignedIn | undefined>(undefined);
  readonly #deriving = signal<DeriveProgress | undefined>(undefined);
  readonly #error = signal<string | undefined>(undefined);
  readonly #opened = signal(0);
  readonly #outbox = signal<ChatMessage[]>([]);
  readonly #rebased = signal<RebaseNotice | undefined>(undefined);
  readonly #rebaseListeners = new Set<(notice: RebaseNotice) => void>();
  readonly #tracker: PresenceTracker;
  readonly #peers = new Map<string, string>();
  readonly #stops: (() => void)[] = [];
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #session: SyncSession | undefined;
  #own: Repo | undefined;
  #ownReady = false;
  #activation = 0;
  #typing = false;
  #typingSent = 0;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** The history, recomputed only when something it read changed. */
  readonly #history = computed(() => {
    this.#opened.value;
    const me = this.#me.value;
    const lines = roomHistory(
      this.#registry.get(this.#config.roomKey),
      (key) => this.#registry.get(key),
      this.#config.historyLimit,
      me ? [me.key] : [],
    );
    const outbox = this.#outbox.value;
    if (!me || outbox.length === 0) return lines;
    return [
      ...lines,
      ...outbox.map((m, i) => ({
        id: `${me.key}:pending${i}`,
        key: me.key,
        index: -1,
        name: me.username,
        text: m.text,
        at: m.at,
      })),
    ];
  });

  readonly #members = computed(() => {
    this.#opened.value;
    const me = this.#me.value;
    return roomMemberList(
      this.#registry.get(this.#config.roomKey),
      (key) => this.#registry.get(key),
      me ? [me.key] : [],
    );
  });

  /** Creates a client; nothing runs until `start()`. */
  constructor(options: ChatAppOptions) {
    this.#options = options;
    this.#config = {
      name: CHAT_NAME,
      historyLimit: DEFAULT_HISTORY_LIMIT,
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
      presenceTimeoutMs: DEFAULT_PRESENCE_TIMEOUT_MS,
      ...options.config,
    };
    this.#registry = options.registry;
    this.#identities = options.identities ?? new MemoryIdentityStore();
    this.#now = options.now ?? Date.now;
    this.#tracker = new PresenceTracker({
      timeoutMs: this.#config.presenceTimeoutMs,
      now: this.#now,
    });
  }

  /** The connection's status. */
  get status(): ValueSignal<ConnectionStatus> {
    return this.#status;
  }
  /** Whether the runtime reports a network (set with `setNetwork`). */
  get network(): ValueSignal<boolean> {
    return this.#network;
  }
  /** Whether this device's stored data is loaded. */
  get loaded(): ValueSignal<boolean> {
    return this.#loaded;
  }
  /** The signed-in participant. */
  get me(): ValueSignal<SignedIn | undefined> {
    return this.#me;
  }
  /** Key-derivation progress while signing in. */
  get deriving(): ValueSignal<DeriveProgress | undefined> {
    return this.#deriving;
  }
  /** The error to show, if any. */
  get error(): ValueSignal<string | undefined> {
    return this.#error;
  }
  /** Participants online now, by key. */
  get online(): ValueSignal<ReadonlyMap<string, PresenceEntry>> {
    return this.#tracker.online;
  }
  /**
   * The last automatic merge of your repo with what you wrote on another
   * device meanwhile (counts add up until `dismissRebase()`); `undefined`
   * when there is nothing to tell.
   */
  get rebased(): ValueSignal<RebaseNotice | undefined> {
    return this.#rebased;
  }
  /** The registry the client syncs. */
  get registry(): RepoRegistry {
    return this.#registry;
  }
  /** The sync session, once started. */
  get session(): SyncSession | undefined {
    return this.#session;
  }

  /** The room's recent history, merged by `at` (reactive). */
  history(): ChatLine[] {
    return this.#history.value;
  }

  /** The room's members with names (reactive). */
  members(): ChatMember[] {
    return this.#members.value;
  }

  /** Tells the client whether the runtime has a network (`navigator.onLine`). */
  setNetwork(online: boolean): void {
    this.#network.value = online;
  }

  /**
   * Loads what this device stores, restores a remembered identity and
   * connects. Resolves once local data is loaded and the connection is
   * started (not necessarily open). Storage failures are shown, not thrown:
   * the client then runs from memory.
   */
  async start(): Promise<void> {
    if (this.#session || this.#closed) return;
    const { roomKey } = this.#config;
    this.#status.value = "connecting";
    this.#stops.push(this.#registry.onOpen(() => this.#opened.value++));
    try {
      await this.#registry.open(roomKey);
      await this.#registry.openStored();
    } catch (error) {
      this.#error.value = `Cannot load the messages stored on this device: ${
        describe(error)
      }`;
    }
    this.#opened.value++;
    this.#loaded.value = true;
    if (this.#closed) return;

    const session = this.#options.sync(this.#registry, {
      url: this.#options.url,
      ...this.#options.syncOptions,
      filter: (key) => key === roomKey,
      follow: (key, repo, subscribe) => {
        if (key === roomKey) {
          for (const member of roomMembers(repo)) subscribe(member);
        }
      },
      onStatus: (status: SyncStatus) => {
        this.#status.value = status;
        if (status === "open") this.#sendPresence();
      },
      onAnnounce: ({ key, topic }) => {
        if (topic === roomKey) session.subscribe(key);
      },
      onPresence: (event) => this.#presence(event),
      onRebase: (key, result, error) => {
        this.#options.syncOptions?.onRebase?.(key, result, error);
        this.#rebasedRepo(key, result, error);
      },
    });
    this.#session = session;
    this.#status.value = session.status.peek();
    session.subscribe(roomKey);
    session.interest(roomKey);
    // Members known from storage: sync them right away, not after the room.
    for (const key of roomMembers(this.#registry.get(roomKey))) {
      session.subscribe(key);
    }
    this.#timers.push(
      setInterval(() => this.#sendPresence(), this.#config.heartbeatMs),
      setInterval(() => this.#tracker.sweep(), SWEEP_MS),
    );

    let remembered: ChatIdentity | undefined;
    try {
      remembered = await this.#identities.load();
    } catch (error) {
      this.#error.value = `Cannot read the key remembered on this device: ${
        describe(error)
      }`;
    }
    if (remembered && !this.#me.peek()) {
      await this.#activate(remembered, true);
    }
  }

  /**
   * Derives the key for `username` + `password` (in WebCrypto; progress in
   * `deriving`) and signs in; with `remember`, this device keeps the key.
   * Failures are shown in `error`, not thrown.
   */
  async signIn(
    username: string,
    password: string,
    remember: boolean,
  ): Promise<void> {
    if (this.#deriving.peek()) return;
    this.#error.value = undefined;
    const startedAt = performance.now();
    this.#deriving.value = { done: 0, total: 2, startedAt, estimateMs: 1 };
    try {
      const identity = await deriveIdentity(
        username,
        password,
        this.#config.keyIterations,
        this.#config.name,
        (progress) => (this.#deriving.value = progress),
      );
      if (remember) {
        try {
          await this.#identities.save(identity);
          this.#options.onRemember?.(true);
        } catch (error) {
          remember = false;
          this.#error.value =
            `Signed in, but this device could not remember your key: ${
              describe(error)
            }`;
        }
      }
      await this.#activate(identity, remember);
    } catch (error) {
      this.#error.value = `Cannot sign in: ${describe(error)}`;
    } finally {
      this.#deriving.value = undefined;
    }
  }

  /**
   * Signs out: says goodbye to the room, detaches your key from your repo
   * (this page can no longer sign as you) and forgets the remembered key.
   */
  async signOut(): Promise<void> {
    const me = this.#me.peek();
    if (!me) return;
    this.#activation++;
    this.#leave(me.key);
    batch(() => {
      this.#me.value = undefined;
      this.#outbox.value = [];
      this.#error.value = undefined;
      this.#rebased.value = undefined;
    });
    // This page can no longer sign: nothing written here from now on can
    // pass for you.
    this.#own?.detachSigner();
    this.#own = undefined;
    this.#ownReady = false;
    this.#typing = false;
    clearTimeout(this.#typingTimer);
    try {
      await this.#identities.clear();
    } catch (error) {
      this.#error.value =
        `Signed out, but the key remembered on this device could not be deleted: ${
          describe(error)
        }`;
    }
    this.#options.onRemember?.(false);
  }

  /**
   * Sends `text` as the signed-in participant: appended to your repo
   * (`repo.push("messages", …)`), signed, stored on this device and synced
   * whenever connected. Throws a `RangeError`/`Error` saying why it cannot.
   */
  send(text: string): void {
    const me = this.#me.peek();
    if (!me) throw new Error("Cannot send: sign in first");
    const at = this.#now();
    if (this.#own && this.#ownReady) {
      postMessage(this.#own, text, at);
      return;
    }
    // Your repo is still arriving from the relay (a new device): keep the
    // message until it has, so nothing forks.
    const clean = String(text).trim();
    if (!clean) throw new RangeError("Cannot send: the message is empty");
    this.#outbox.value = [...this.#outbox.peek(), { text: clean, at }];
  }

  /** Tells the room whether you are typing (throttled; ends by itself). */
  setTyping(typing: boolean): void {
    if (!this.#me.peek()) return;
    clearTimeout(this.#typingTimer);
    if (typing) {
      this.#typingTimer = setTimeout(
        () => this.setTyping(false),
        TYPING_IDLE_MS,
      );
    }
    const now = this.#now();
    if (
      typing === this.#typing &&
      (!typing || now - this.#typingSent < TYPING_RESEND_MS)
    ) return;
    this.#typing = typing;
    this.#sendPresence();
  }

  /** Shows an error (e.g. from the runtime around the client). */
  showError(message: string): void {
    this.#error.value = message;
  }

  /** Clears the error shown. */
  dismissError(): void {
    this.#error.value = undefined;
  }

  /** Clears the merge notice (`rebased`). */
  dismissRebase(): void {
    this.#rebased.value = undefined;
  }

  /**
   * Calls `listener` after each automatic merge of your repo (another device
   * of yours wrote while this one could not sync; the relay kept that
   * device's history and this device rebased onto it). Returns a stop
   * function.
   */
  onRebase(listener: (notice: RebaseNotice) => void): () => void {
    this.#rebaseListeners.add(listener);
    return () => this.#rebaseListeners.delete(listener);
  }

  /**
   * Says goodbye (presence gone), closes the connection, stops the timers
   * and flushes storage. The registry's storage driver stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#activation++;
    const me = this.#me.peek();
    if (me) this.#leave(me.key);
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#typingTimer);
    for (const stop of this.#stops) stop();
    await this.#session?.close();
    this.#status.value = "closed";
    await this.#registry.flush().catch((error) => {
      this.#error.value = `Cannot save to this device: ${describe(error)}`;
    });
  }

  /** Says goodbye now, e.g. when the page is being closed. */
  leave(): void {
    const me = this.#me.peek();
    if (me) this.#leave(me.key);
  }

  async #activate(identity: ChatIdentity, remembered: boolean): Promise<void> {
    const activation = ++this.#activation;
    const repo = await this.#registry.open(identity.key);
    await repo.attachSigner(new KeySigner(identity), identity.name);
    if (activation !== this.#activation) {
      // Signed out (or in as someone else) meanwhile: take the key back,
      // unless this identity is the one signed in now.
      if (this.#me.peek()?.key !== identity.key) repo.detachSigner();
      return;
    }
    this.#own = repo;
    this.#ownReady = false;
    this.#me.value = {
      key: identity.key,
      username: identity.username,
      remembered,
    };
    const session = this.#session;
    if (session) {
      session.subscribe(identity.key);
      session.announce(identity.key, this.#config.roomKey);
    }
    this.#sendPresence();
    void this.#prepareProfile(repo, identity, activation);
  }

  /**
   * Makes your repo a profile, then sends what waited in the outbox. A
   * device that holds none of your repo first waits for the relay's copy,
   * so its first write continues your history instead of forking it.
   */
  async #prepareProfile(
    repo: Repo,
    identity: ChatIdentity,
    activation: number,
  ): Promise<void> {
    const session = this.#session;
    if (repo.get() === undefined && session) {
      try {
        await session.synced(identity.key);
      } catch {
        return; // Closed before it synced.
      }
    }
    if (activation !== this.#activation) return;
    try {
      initProfile(repo, identity.username.trim() || identity.username);
      this.#ownReady = true;
      const outbox = this.#outbox.peek();
      batch(() => {
        for (const message of outbox) {
          postMessage(repo, message.text, message.at);
        }
        this.#outbox.value = [];
      });
    } catch (error) {
      this.#error.value = `Cannot write to your repo: ${describe(error)}`;
    }
  }

  #rebasedRepo(
    key: string,
    result: RebaseResult | undefined,
    error: unknown,
  ): void {
    const repo = this.#own;
    if (!repo || key !== this.#me.peek()?.key || repo.key !== key) return;
    if (!result) {
      this.#error.value =
        `Cannot merge what you wrote on this device with what another device of yours wrote meanwhile: ${
          describe(error)
        }`;
      return;
    }
    let counts = { theirs: 0, ours: 0 };
    try {
      counts = summarizeRebase(repo, result);
    } catch (error) {
      console.error("Cannot count the messages a rebase merged:", error);
    }
    const conflicts = result.conflicts.length;
    const notice: RebaseNotice = {
      key,
      ...counts,
      conflicts,
      at: this.#now(),
    };
    // Worth telling only when this device had changes of its own to merge.
    if (result.commit !== undefined || conflicts > 0) {
      const before = this.#rebased.peek();
      this.#rebased.value = before
        ? {
          ...notice,
          theirs: before.theirs + notice.theirs,
          ours: before.ours + notice.ours,
          conflicts: before.conflicts + conflicts,
        }
        : notice;
    }
    for (const listener of [...this.#rebaseListeners]) {
      try {
        listener(notice);
      } catch (error) {
        console.error("A rebase listener failed:", error);
      }
    }
  }

  #sendPresence(): void {
    const me = this.#me.peek();
    const session = this.#session;
    if (!me || !session || this.#closed) return;
    this.#typingSent = this.#now();
    session.presence(this.#config.roomKey, {
      key: me.key,
      name: me.username,
      typing: this.#typing,
    }, { key: me.key, ttl: this.#config.presenceTimeoutMs });
  }

  #leave(key: string): void {
    this.#session?.presence(this.#config.roomKey, null, { key, ttl: 0 });
  }

  #presence(event: PresenceEvent): void {
    if (event.topic !== this.#config.roomKey) return;
    if (event.state === null || event.ttl <= 0) {
      const key = event.key ?? (event.peer && this.#peers.get(event.peer));
      if (event.peer) this.#peers.delete(event.peer);
      if (key) this.#tracker.remove(key);
      return;
    }
    const state = parsePresence({
      ...(event.state as Record<string, unknown>),
      ...(event.key ? { key: event.key } : {}),
    });
    if (!state) return;
    if (event.peer) this.#peers.set(event.peer, state.key);
    this.#tracker.update(state, event.ttl);
  }
}
