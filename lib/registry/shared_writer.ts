/**
 * `SharedWriter`: commits to a repo that several servers sign — each with
 * the same credentials — over one shared storage (Deno Deploy's isolates
 * over Deno KV), without ever forking it.
 *
 * @module
 */

import { Ingest } from "../store/ingest.ts";
import { Repo, type RepoSigner } from "../store/repo.ts";
import { checkRepoKey } from "./key.ts";
import type { RepoRegistry } from "./registry.ts";

/** Options for {@linkcode SharedWriter}. */
export interface SharedWriterOptions {
  /** Attempts per commit when other writers keep winning (default 10). */
  attempts?: number;
  /** The clock for commit dates (default `Date.now`). */
  now?: () => number | Date;
}

interface Pending {
  change: (draft: Repo) => boolean;
  resolve: (changed: boolean) => void;
  reject: (error: unknown) => void;
}

interface Target {
  signer: RepoSigner;
  name: string;
  pending: Pending[];
  running: Promise<void> | undefined;
}

/**
 * Commits to a repo that several writers sign with the same key, using the
 * shared storage as the arbiter. A commit is made on a *draft* — a copy of
 * the repo as stored — signed, and appended to storage at the stored
 * length, which succeeds for exactly one writer (Deno KV's atomic check).
 * Only then is it ingested into the registry's repo, so clients and other
 * isolates never see a commit that lost the race; the loser reloads and
 * commits again. Changes queued meanwhile share one draft and one
 * signature.
 *
 * The registry's repo itself must not be committed to directly (attach no
 * signer to it).
 *
 * @example
 * ```ts ignore
 * const writer = new SharedWriter(registry);
 * await writer.commit(roomKey, signer, "chat", (draft) =>
 *   addMember(draft, memberKey)
 * );
 * ```
 */
export class SharedWriter {
  readonly #registry: RepoRegistry;
  readonly #attempts: number;
  readonly #now: (() => number | Date) | undefined;
  readonly #targets = new Map<string, Target>();

  /** Writes through `registry` and its storage (which must be set). */
  constructor(registry: RepoRegistry, options: SharedWriterOptions = {}) {
    if (!registry.storage) {
      throw new TypeError(
        "Cannot make a SharedWriter: the registry has no storage to arbitrate between writers",
      );
    }
    this.#registry = registry;
    this.#attempts = options.attempts ?? 10;
    this.#now = options.now;
  }

  /**
   * Applies `change` to a draft of the repo `key` (as stored, with every
   * other writer's commits) and, if it returns true, persists the commits it
   * made — signed with `signer`'s key for `name` — then ingests them into
   * the registry's repo. Resolves with whether anything was committed;
   * rejects with what `change` threw (which must throw before committing:
   * only that change fails), or when storage fails, the signer's key is not
   * `key`, or other writers won `attempts` times in a row.
   */
  commit(
    key: string,
    signer: RepoSigner,
    name: string,
    change: (draft: Repo) => boolean,
  ): Promise<boolean> {
    checkRepoKey(key, "commit to a shared repo");
    let target = this.#targets.get(key);
    if (!target) {
      target = { signer, name, pending: [], running: undefined };
      this.#targets.set(key, target);
    }
    const t = target;
    return new Promise<boolean>((resolve, reject) => {
      t.pending.push({ change, resolve, reject });
      if (!t.running) this.#start(key, t);
    });
  }

  #start(key: string, target: Target): void {
    target.running = this.#run(key, target).finally(() => {
      target.running = undefined;
      if (target.pending.length) this.#start(key, target);
    });
  }

  async #run(key: string, target: Target): Promise<void> {
    // Let changes queued in this tick join the first draft.
    await Promise.resolve();
    while (target.pending.length) {
      const batch = target.pending.splice(0);
      try {
        const outcomes = await this.#commitBatch(key, target, batch);
        batch.forEach((p, i) => {
          const outcome = outcomes[i];
          if ("error" in outcome) p.reject(outcome.error);
          else p.resolve(outcome.changed);
        });
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }

  async #commitBatch(
    key: string,
    target: Target,
    batch: Pending[],
  ): Promise<({ changed: boolean } | { error: unknown })[]> {
    const storage = this.#registry.storage!;
    const where = `${key.slice(0, 8)}…`;
    // Open the registry's repo first: what we append must reach it as new
    // verified bytes (which a fan-out then posts), not in its initial load.
    const repo = this.#registry.get(key) ?? await this.#registry.open(key);
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const chunks = await storage.load(key);
      const draft = new Repo({ key, now: this.#now });
      if (chunks.length) draft.appendRange(chunks);
      const stored = draft.byteLength;
      await draft.attachSigner(target.signer, target.name);
      // A change that throws fails alone (it must throw before committing).
      const results = batch.map((p) => {
        try {
          return { changed: p.change(draft) };
        } catch (error) {
          return { error };
        }
      });
      await draft.whenSigned();
      if (draft.byteLength > stored) {
        try {
          await storage.append(key, stored, draft.chunksBetween(stored));
        } catch (error) {
          // Another writer appended first (or storage failed): try again
          // on top of what is stored now.
          lastError = error;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
          continue;
        }
      }
      this.#catchUp(repo, draft);
      return results;
    }
    throw new Error(
      `Cannot commit to the shared repo ${where}: other writers won ${this.#attempts} times in a row, or storage keeps failing: ${
        (lastError as Error)?.message ?? lastError
      }`,
      { cause: lastError },
    );
  }

  /** Brings the registry's repo up to the draft (verified, as any input). */
  #catchUp(repo: Repo, draft: Repo): void {
    const from = repo.signedLength;
    if (from >= draft.signedLength) return;
    const ingest = new Ingest(repo, {
      from,
      maxPendingBytes: Number.MAX_SAFE_INTEGER,
    });
    ingest.writeChunks(draft.chunksBetween(from));
    ingest.end();
  }
}
