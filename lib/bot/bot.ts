/**
 * A chat participant run by code: it watches the other members' repos and
 * answers messages with a pluggable reply function (a rule, an LLM call…).
 *
 * @module
 */

import { effect, untracked } from "@preact/signals-core";
import { isKeyHex, roomMembers, shortKey } from "../chat/model.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { Repo } from "../store/repo.ts";

/** A message the bot may answer. */
export interface BotMessage {
  /** The sender's repo key. */
  key: string;
  /** The sender's display name (or a short key). */
  name: string;
  /** Index of the message in the sender's `messages`. */
  index: number;
  /** The message text. */
  text: string;
  /** When it was written (ms since epoch). */
  at: number;
}

/** What a reply function can look at besides the message. */
export interface BotContext {
  /** The bot's own repo key. */
  readonly key: string;
  /** The room's member keys and names (the bot included). */
  members(): { key: string; name: string }[];
}

/** Returns the answer's text, or `undefined` to stay silent. */
export type BotReply = (
  message: BotMessage,
  context: BotContext,
) => string | undefined | Promise<string | undefined>;

/** Options for {@linkcode Bot}. */
export interface BotOptions {
  /** Where the room and the members' repos are (kept in sync by the caller). */
  registry: RepoRegistry;
  /** The room repo's key: its `members` lists who to watch. */
  roomKey: string;
  /** The bot's own repo: `{ name, messages }`, with a signer attached. */
  repo: Repo;
  /** Decides the answer to each new message. */
  reply: BotReply;
  /** Messages written before this (ms since epoch) are not answered (default: start time). */
  since?: number;
  /** The clock for answers' `at` (default `Date.now`). */
  now?: () => number;
  /** Called when a reply function or a commit fails (default: `console.error`). */
  onError?: (error: unknown, message: BotMessage) => void;
}

interface StoredMessage {
  text?: unknown;
  at?: unknown;
  re?: { key?: unknown; at?: unknown; index?: unknown };
}

/** Names one question: its sender, time and index (several may share a millisecond). */
function questionId(key: unknown, at: unknown, index: unknown): string {
  return `${key}:${at}:${index}`;
}

/**
 * Runs a bot in a chat room:
 * - it watches the room's members' repos, never its own;
 * - it answers each new message at most once; an answer is stored as
 *   `{ text, at, re: { key, at, index } }` naming the message it answers
 *   (sender, time, index in the sender's `messages`), so a restarted bot
 *   knows what it already answered;
 * - **last-author rule**: it never answers a message that is itself an
 *   answer to one of its own messages — in that exchange it spoke last — so
 *   two bots triggering each other stop after one round;
 * - answers are queued and committed one at a time, each its own signed
 *   commit (never two commits to its repo at once).
 *
 * @example
 * ```ts ignore
 * const bot = new Bot({ registry, roomKey, repo, reply: (m) =>
 *   m.text === "/time" ? new Date().toISOString() : undefined });
 * bot.start();
 * ```
 */
export class Bot {
  readonly #options: BotOptions;
  readonly #since: number;
  readonly #now: () => number;
  readonly #answered = new Set<string>();
  /** `key:at` of answers stored without an index (older bots). */
  readonly #answeredAt = new Set<string>();
  readonly #seen = new Map<string, number>();
  readonly #watching = new Map<string, () => void>();
  readonly #queue: BotMessage[] = [];
  #stopRoom: (() => void) | undefined;
  #draining: Promise<void> | undefined;
  #count = 0;

  /** Prepares a bot; `start()` sets it going. */
  constructor(options: BotOptions) {
    if (!isKeyHex(options.roomKey)) {
      throw new TypeError(
        `Cannot start bot: room key ${options.roomKey} is not a repo key`,
      );
    }
    if (options.repo.key === undefined) {
      throw new TypeError(
        "Cannot start bot: its repo has no key (attach a signer first)",
      );
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#since = options.since ?? this.#now();
  }

  /** The bot's repo key. */
  get key(): string {
    return this.#options.repo.key!;
  }

  /** Answers committed since start. */
  get answered(): number {
    return this.#count;
  }

  /** Starts watching the room. */
  async start(): Promise<void> {
    const { registry, roomKey, repo } = this.#options;
    for (const message of asMessages(repo.get("messages"))) {
      const re = message.re;
      if (!re || typeof re.key !== "string") continue;
      if (typeof re.index === "number") {
        this.#answered.add(questionId(re.key, re.at, re.index));
      } else this.#answeredAt.add(`${re.key}:${re.at}`);
    }
    const room = await registry.open(roomKey);
    this.#stopRoom = effect(() => {
      for (const key of roomMembers(room)) {
        if (key !== this.key && !this.#watching.has(key)) void this.#watch(key);
      }
    });
  }

  /** Stops watching; answers already queued are still committed. */
  async stop(): Promise<void> {
    this.#stopRoom?.();
    this.#stopRoom = undefined;
    for (const stop of this.#watching.values()) stop();
    this.#watching.clear();
    await this.idle();
  }

  /** Resolves when no answer is queued or being committed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #watch(key: string): Promise<void> {
    this.#watching.set(key, () => {});
    const member = await this.#options.registry.open(key);
    if (!this.#watching.has(key)) return;
    const stop = effect(() => {
      const length = member.get("messages", "length");
      if (typeof length !== "number") return;
      const from = this.#seen.get(key) ?? 0;
      this.#seen.set(key, length);
      const name = untracked(() => member.get("name"));
      for (let index = from; index < length; index++) {
        const m = untracked(() =>
          member.get("messages", index)
        ) as StoredMessage;
        if (!m || typeof m.text !== "string" || typeof m.at !== "number") {
          continue;
        }
        if (m.at < this.#since) continue;
        const id = questionId(key, m.at, index);
        if (this.#answered.has(id) || this.#answeredAt.has(`${key}:${m.at}`)) {
          continue;
        }
        // Last-author rule: an answer to one of our messages ends the exchange.
        if (m.re && m.re.key === this.key) continue;
        this.#answered.add(id);
        this.#queue.push({
          key,
          name: typeof name === "string" ? name : shortKey(key),
          index,
          text: m.text,
          at: m.at,
        });
      }
      if (this.#queue.length > 0 && !this.#draining) {
        this.#draining = this.#drain().finally(() =>
          this.#draining = undefined
        );
      }
    });
    this.#watching.set(key, stop);
  }

  async #drain(): Promise<void> {
    const { repo, reply } = this.#options;
    const context: BotContext = {
      key: this.key,
      members: () => {
        const room = this.#options.registry.get(this.#options.roomKey);
        return roomMembers(room).map((key) => {
          const name = this.#options.registry.get(key)?.get("name");
          return {
            key,
            name: typeof name === "string" ? name : shortKey(key),
          };
        });
      },
    };
    while (this.#queue.length > 0) {
      const message = this.#queue.shift()!;
      try {
        const text = await reply(message, context);
        if (typeof text !== "string" || text === "") continue;
        repo.push("messages", {
          text,
          at: this.#now(),
          re: { key: message.key, at: message.at, index: message.index },
        });
        await repo.whenSigned();
        this.#count++;
      } catch (error) {
        (this.#options.onError ?? ((e) => console.error("bot:", e)))(
          error,
          message,
        );
      }
    }
  }
}

function asMessages(value: unknown): StoredMessage[] {
  return Array.isArray(value)
    ? value.filter((m) => m && typeof m === "object")
    : [];
}
