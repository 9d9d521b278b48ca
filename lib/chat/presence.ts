/**
 * Presence: who is online and who is typing, from ephemeral messages (never
 * written to any repo). Each participant sends its state on a heartbeat; a
 * participant not heard from within the timeout is gone. Runtime-neutral:
 * the caller feeds messages and ticks the clock.
 *
 * @module
 */

import { signal } from "@preact/signals-core";
import type { ValueSignal } from "../store/streamo.ts";
import { isKeyHex, MAX_NAME_LENGTH } from "./model.ts";

/** Default interval between a participant's presence heartbeats. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** Default silence after which a participant counts as gone. */
export const DEFAULT_PRESENCE_TIMEOUT_MS = 25_000;
/** A "typing" state lasts this long unless renewed. */
export const TYPING_TIMEOUT_MS = 6_000;

/** The ephemeral state a participant announces. */
export interface PresenceState {
  /** The participant's chat repo key. */
  key: string;
  /** Display name, for showing before the participant's repo has loaded. */
  name?: string;
  /** Whether the participant is typing. */
  typing?: boolean;
  /** `false` when the participant is leaving (page closed, signed out). */
  online?: boolean;
}

/** What is known of one participant who is online. */
export interface PresenceEntry {
  /** The participant's chat repo key. */
  key: string;
  /** Name they announced, if any. */
  name?: string;
  /** Whether they are typing now. */
  typing: boolean;
  /** When they were last heard from (the tracker's clock). */
  seen: number;
  /** When their state expires unless renewed (the tracker's clock). */
  expires: number;
  /** When they last reported typing (the tracker's clock), or 0. */
  typingAt: number;
}

/** Options for {@linkcode PresenceTracker}. */
export interface PresenceTrackerOptions {
  /** Silence after which a participant is gone (default 25 s). */
  timeoutMs?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/**
 * Parses a presence message from the wire: `undefined` unless it has a valid
 * key, so a peer's malformed message is ignored.
 */
export function parsePresence(value: unknown): PresenceState | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!isKeyHex(v.key)) return undefined;
  const state: PresenceState = { key: v.key };
  if (typeof v.name === "string") {
    state.name = v.name.slice(0, MAX_NAME_LENGTH);
  }
  if (typeof v.typing === "boolean") state.typing = v.typing;
  if (typeof v.online === "boolean") state.online = v.online;
  return state;
}

/**
 * Tracks who is online from presence messages. `online` is a signal of the
 * participants heard from within the timeout, by key; call `sweep()`
 * periodically (e.g. every second) to drop the silent ones.
 *
 * @example
 * ```ts
 * import { PresenceTracker } from "./presence.ts";
 * let t = 0;
 * const tracker = new PresenceTracker({ timeoutMs: 100, now: () => t });
 * tracker.update({ key: "02" + "ab".repeat(32), name: "bob" });
 * console.log(tracker.online.value.size); // 1
 * t = 200;
 * tracker.sweep();
 * console.log(tracker.online.value.size); // 0
 * ```
 */
export class PresenceTracker {
  readonly #online = signal<ReadonlyMap<string, PresenceEntry>>(new Map());
  readonly #timeout: number;
  readonly #now: () => number;

  /** Creates an empty tracker. */
  constructor(options: PresenceTrackerOptions = {}) {
    this.#timeout = options.timeoutMs ?? DEFAULT_PRESENCE_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Participants online now, by key (reactive). */
  get online(): ValueSignal<ReadonlyMap<string, PresenceEntry>> {
    return this.#online;
  }

  /**
   * Applies one presence message (already parsed); it stays valid for `ttl`
   * ms (default: the tracker's timeout).
   */
  update(state: PresenceState, ttl: number = this.#timeout): void {
    const now = this.#now();
    const expires = now + Math.max(0, ttl);
    const next = new Map(this.#online.peek());
    if (state.online === false) {
      if (!next.delete(state.key)) return;
    } else {
      const before = next.get(state.key);
      const typing = state.typing ?? before?.typing ?? false;
      const typingAt = state.typing === true
        ? now
        : (typing ? before!.typingAt : 0);
      const name = state.name ?? before?.name;
      if (before && before.name === name && before.typing === typing) {
        // Only times changed: update in place, nothing re-renders.
        before.seen = now;
        before.expires = expires;
        before.typingAt = typingAt;
        return;
      }
      next.set(state.key, {
        key: state.key,
        name,
        typing,
        seen: now,
        expires,
        typingAt,
      });
    }
    this.#online.value = next;
  }

  /** Drops participants whose state expired; ends stale typing. */
  sweep(): void {
    const now = this.#now();
    let changed = false;
    const next = new Map<string, PresenceEntry>();
    for (const [key, entry] of this.#online.peek()) {
      if (now >= entry.expires) {
        changed = true;
        continue;
      }
      if (entry.typing && now - entry.typingAt > TYPING_TIMEOUT_MS) {
        next.set(key, { ...entry, typing: false });
        changed = true;
      } else next.set(key, entry);
    }
    if (changed) this.#online.value = next;
  }

  /** Forgets one participant (they left). */
  remove(key: string): void {
    const current = this.#online.peek();
    if (!current.has(key)) return;
    const next = new Map(current);
    next.delete(key);
    this.#online.value = next;
  }

  /** Forgets everyone. */
  clear(): void {
    if (this.#online.peek().size) this.#online.value = new Map();
  }
}
