/**
 * `RepoRegistry`: the repos one peer holds, keyed by public key, optionally
 * backed by a storage driver.
 *
 * @module
 */

import type { StorageDriver } from "../storage/types.ts";
import { Repo, type VerifiedRange } from "../store/repo.ts";
import { checkRepoKey } from "./key.ts";

/** Where a storage error happened. */
export interface RegistryErrorContext {
  /** The storage operation that failed. */
  operation: "load" | "append" | "replace" | "flush" | "keys";
  /** The repo it concerned, when there is one. */
  key?: string;
}

/** Options for {@linkcode RepoRegistry}. */
export interface RepoRegistryOptions {
  /**
   * Makes the repo for a key (default `new Repo({ key })`). The repo's
   * `key` must be `key`: use it to attach a signer to your own repos.
   */
  create?: (key: string) => Repo;
  /**
   * Persists every verified range and loads stored repos on `open`. The
   * registry does not close it.
   */
  storage?: StorageDriver;
  /**
   * Called with storage errors that no caller awaits (persisting a range,
   * flushing). Without it, and without `onError` listeners, they are logged
   * with `console.error`; they are never dropped silently.
   */
  onError?: (error: Error, context: RegistryErrorContext) => void;
}

/** Called with each repo the registry opens, once it is loaded. */
export type OpenListener = (repo: Repo, key: string) => void;

interface Persisted {
  chain: Promise<void>;
  failed: boolean;
  stop: () => void;
}

/**
 * The repos a peer holds, keyed by hex public key. `open` creates (or loads
 * from storage) a repo on first use; concurrent opens of one key share one
 * instance. With `storage`, every range that becomes verified is persisted
 * in order, whatever made it verified (own signing or ingest).
 *
 * Iterates like a `Map` of key → repo, over the repos that finished opening.
 *
 * @example
 * ```ts
 * import { RepoRegistry } from "@streamo/streamo";
 * const registry = new RepoRegistry();
 * const key = "02" + "11".repeat(32);
 * const repo = await registry.open(key);
 * console.log(registry.get(key) === repo, registry.size); // true 1
 * ```
 */
export class RepoRegistry implements Iterable<[string, Repo]> {
  readonly #create: (key: string) => Repo;
  readonly #storage: StorageDriver | undefined;
  readonly #onErrorOption:
    | ((error: Error, context: RegistryErrorContext) => void)
    | undefined;
  readonly #repos = new Map<string, Repo>();
  readonly #opening = new Map<string, Promise<Repo>>();
  readonly #openListeners = new Set<OpenListener>();
  readonly #errorListeners = new Set<
    (error: Error, context: RegistryErrorContext) => void
  >();
  readonly #persisted = new Map<string, Persisted>();
  #closed = false;

  /** Creates an empty registry. */
  constructor(options: RepoRegistryOptions = {}) {
    this.#create = options.create ?? ((key) => new Repo({ key }));
    this.#storage = options.storage;
    this.#onErrorOption = options.onError;
  }

  /** The storage driver, if any. */
  get storage(): StorageDriver | undefined {
    return this.#storage;
  }

  /** Number of open repos. */
  get size(): number {
    return this.#repos.size;
  }

  /** Whether the repo for `key` is open. */
  has(key: string): boolean {
    return this.#repos.has(key);
  }

  /** The open repo for `key`, or `undefined`. */
  get(key: string): Repo | undefined {
    return this.#repos.get(key);
  }

  /** Keys of the open repos, in the order they opened. */
  keys(): IterableIterator<string> {
    return this.#repos.keys();
  }

  /** The open repos, in the order they opened. */
  values(): IterableIterator<Repo> {
    return this.#repos.values();
  }

  /** `[key, repo]` pairs of the open repos. */
  entries(): IterableIterator<[string, Repo]> {
    return this.#repos.entries();
  }

  /** `[key, repo]` pairs of the open repos. */
  [Symbol.iterator](): IterableIterator<[string, Repo]> {
    return this.#repos.entries();
  }

  /**
   * The repo for `key`, created (and loaded from storage) on first use.
   * Throws a `TypeError` for a malformed key; rejects if loading fails (the
   * repo is then not open, and a later `open` tries again).
   */
  open(key: string): Promise<Repo> {
    checkRepoKey(key, "open a repo");
    const open = this.#repos.get(key);
    if (open) return Promise.resolve(open);
    let opening = this.#opening.get(key);
    if (!opening) {
      if (this.#closed) {
        return Promise.reject(
          new Error(
            `Cannot open repo ${key.slice(0, 8)}…: the registry is closed`,
          ),
        );
      }
      opening = this.#load(key).finally(() => this.#opening.delete(key));
      this.#opening.set(key, opening);
    }
    return opening;
  }

  /**
   * Opens every repo the storage driver holds (none without storage), so a
   * restarted server serves them before anyone subscribes.
   */
  async openStored(): Promise<Repo[]> {
    if (!this.#storage) return [];
    let keys: string[];
    try {
      keys = await this.#storage.keys();
    } catch (error) {
      throw this.#wrap(error, { operation: "keys" });
    }
    return await Promise.all(keys.map((key) => this.open(key)));
  }

  /** Calls `listener` with every repo opened from now on. */
  onOpen(listener: OpenListener): () => void {
    this.#openListeners.add(listener);
    return () => this.offOpen(listener);
  }

  /** Stops calling a listener added with `onOpen`. */
  offOpen(listener: OpenListener): void {
    this.#openListeners.delete(listener);
  }

  /**
   * Calls `listener` with storage errors no caller awaits (instead of
   * logging them).
   */
  onError(
    listener: (error: Error, context: RegistryErrorContext) => void,
  ): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /**
   * Resolves once every verified range so far is handed to storage and the
   * storage flushed. Rejects with the flush error, if any.
   */
  async flush(): Promise<void> {
    await Promise.all([...this.#persisted.values()].map((p) => p.chain));
    if (!this.#storage) return;
    try {
      await this.#storage.flush();
    } catch (error) {
      throw this.#wrap(error, { operation: "flush" });
    }
  }

  /**
   * Stops persisting and opening, then flushes storage (the driver stays
   * open: its owner closes it). The repos stay usable in memory.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#opening.values()]);
    try {
      await this.flush();
    } finally {
      for (const p of this.#persisted.values()) p.stop();
    }
  }

  async #load(key: string): Promise<Repo> {
    const repo = this.#create(key);
    if (!(repo instanceof Repo) || repo.key !== key) {
      throw new TypeError(
        `Cannot open repo ${
          key.slice(0, 8)
        }…: the create option must return a Repo whose key is ${
          key.slice(0, 8)
        }…`,
      );
    }
    const storage = this.#storage;
    if (storage) {
      let chunks: Uint8Array[];
      try {
        chunks = await storage.load(key);
      } catch (error) {
        throw this.#wrap(error, { operation: "load", key });
      }
      if (chunks.length > 0) {
        try {
          // Our own archive: structural checks only (it was verified when stored).
          repo.appendRange(chunks);
        } catch (error) {
          throw this.#wrap(error, { operation: "load", key });
        }
      }
      this.#persist(key, repo, storage);
    }
    this.#repos.set(key, repo);
    for (const listener of [...this.#openListeners]) {
      try {
        listener(repo, key);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return repo;
  }

  #persist(key: string, repo: Repo, storage: StorageDriver): void {
    const state: Persisted = {
      chain: Promise.resolve(),
      failed: false,
      stop: () => {},
    };
    // Each write waits for the one before; the first failure stops them.
    const chain =
      (operation: "append" | "replace", what: string) =>
      ({ offset, chunks }: VerifiedRange) => {
        if (state.failed) return;
        state.chain = state.chain
          .then(() => storage[operation](key, offset, chunks))
          .catch((error) => {
            if (state.failed) return;
            state.failed = true;
            this.#report(
              this.#wrap(error, { operation, key }, [
                `persisting stops for this repo; ${what} from ${offset} on are in memory only`,
              ]),
              { operation, key },
            );
          });
      };
    const stopVerified = repo.onVerified(chain("append", "bytes"));
    // A rebase replaced the tail after `offset` (see `Repo.rebaseOnto`).
    const stopRewrite = repo.onRewrite(chain("replace", "the rebased bytes"));
    state.stop = () => {
      stopVerified();
      stopRewrite();
    };
    this.#persisted.set(key, state);
  }

  #wrap(
    error: unknown,
    context: RegistryErrorContext,
    notes: string[] = [],
  ): Error {
    const what = context.key
      ? `${context.operation} repo ${context.key.slice(0, 8)}…`
      : context.operation;
    const name = this.#storage?.name ?? "storage";
    const cause = error instanceof Error ? error.message : String(error);
    return new Error(
      `Storage (${name}) failed to ${what}: ${cause}${
        notes.length ? "; " + notes.join("; ") : ""
      }`,
      { cause: error },
    );
  }

  #report(error: Error, context: RegistryErrorContext): void {
    let handled = false;
    if (this.#onErrorOption) {
      this.#onErrorOption(error, context);
      handled = true;
    }
    for (const listener of this.#errorListeners) {
      listener(error, context);
      handled = true;
    }
    if (!handled) console.error(error);
  }
}
