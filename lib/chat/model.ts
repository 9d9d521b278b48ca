/**
 * The chat's data model (SPEC §7), runtime-neutral: the room repo holds
 * `{ members: [keyHex…] }`; each participant's repo (name `chat`) holds
 * `{ name, messages: [{ text, at }] }`; the message list is every member's
 * messages merged by `at`.
 *
 * Readers here call `repo.get(...)`, so inside an `effect`, a `computed` or
 * a Preact component (with `@preact/signals`) they re-run when — and only
 * when — the paths they read change.
 *
 * @module
 */

import type { PathKey } from "../store/streamo.ts";

/** The repo name the chat uses for both the room and its participants. */
export const CHAT_NAME = "chat";

/** Messages shown by default: the room's most recent 200, all members merged. */
export const DEFAULT_HISTORY_LIMIT = 200;

/** Longest message text accepted, in UTF-16 code units. */
export const MAX_MESSAGE_LENGTH = 4000;

/** Longest display name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 64;

/** What the model needs of a repo to read it: `Repo` and `Streamo` fit. */
export interface ChatReadable {
  /** The value at `path` (reactive per path). */
  get(...path: PathKey[]): unknown;
}

/** What the model needs of a repo to write it: `Repo` fits. */
export interface ChatWritable extends ChatReadable {
  /** Replaces the value (or the value at a path). */
  set(...args: [...PathKey[], unknown]): number;
  /** Appends `value` to the array at `path` (O(log n)). */
  push(...args: [...PathKey[], unknown]): number;
}

/** A message as stored in a participant's repo. */
export interface ChatMessage {
  /** The text, as typed (newlines kept). */
  text: string;
  /** When it was written: milliseconds since the epoch, sender's clock. */
  at: number;
}

/** A participant repo's value. */
export interface ChatProfile {
  /** Display name (chosen by the participant, not unique). */
  name: string;
  /** Everything the participant wrote, oldest first. */
  messages: ChatMessage[];
}

/** A message placed in the room's merged list. */
export interface ChatLine {
  /** Stable id: `<sender key>:<index in the sender's messages>`. */
  id: string;
  /** The sender's repo key (66 hex characters). */
  key: string;
  /** Index of the message in the sender's `messages`. */
  index: number;
  /** The sender's display name when the line was read. */
  name: string;
  /** The message text. */
  text: string;
  /** When it was written (ms since epoch, sender's clock). */
  at: number;
}

/** A member of the room as shown in lists. */
export interface ChatMember {
  /** The member's repo key (66 hex characters). */
  key: string;
  /** Display name, or a short form of the key while unknown. */
  name: string;
}

const KEY_HEX = /^0[23][0-9a-f]{64}$/;

/** Whether `value` is a repo key: 66 lower-case hex characters, `02`/`03` first. */
export function isKeyHex(value: unknown): value is string {
  return typeof value === "string" && KEY_HEX.test(value);
}

/** A short, readable form of a key: its first 8 hex digits and an ellipsis. */
export function shortKey(key: string): string {
  return key.slice(0, 8) + "…";
}

/**
 * The room's member keys, in the order they joined; entries that are not
 * keys and repeats are left out (reactive on `members`).
 */
export function roomMembers(room: ChatReadable | undefined): string[] {
  const members = room?.get("members");
  if (!Array.isArray(members)) return [];
  const seen = new Set<string>();
  for (const key of members) if (isKeyHex(key)) seen.add(key);
  return [...seen];
}

/**
 * Adds `key` to the room's `members` unless it is there; returns whether it
 * was added. Throws a `TypeError` for a value that is not a repo key.
 */
export function addMember(room: ChatWritable, key: string): boolean {
  if (!isKeyHex(key)) {
    throw new TypeError(
      `Cannot add member: expected a 66-character hex key, got ${
        JSON.stringify(String(key).slice(0, 80))
      }`,
    );
  }
  const members = room.get("members");
  if (Array.isArray(members)) {
    if (members.includes(key)) return false;
    room.push("members", key);
    return true;
  }
  const value = room.get();
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    room.set("members", [key]);
  } else {
    room.set({ members: [key] });
  }
  return true;
}

/**
 * A display name as entered, cleaned for storing: trimmed, inner whitespace
 * collapsed. Throws a `RangeError` saying why when it is empty or longer than
 * {@linkcode MAX_NAME_LENGTH}.
 */
export function cleanName(name: string): string {
  const clean = String(name).replace(/\s+/g, " ").trim();
  if (clean.length === 0) {
    throw new RangeError("Cannot use this name: it is empty");
  }
  if (clean.length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `Cannot use this name: it has ${clean.length} characters, the most is ${MAX_NAME_LENGTH}`,
    );
  }
  return clean;
}

/**
 * Makes `repo` a chat profile called `name`: an empty repo gets
 * `{ name, messages: [] }`; an existing profile only has its name updated
 * when it differs. Returns whether anything was written.
 */
export function initProfile(repo: ChatWritable, name: string): boolean {
  const clean = cleanName(name);
  const value = repo.get();
  if (value === undefined) {
    repo.set({ name: clean, messages: [] } satisfies ChatProfile);
    return true;
  }
  let wrote = false;
  if (repo.get("name") !== clean) {
    repo.set("name", clean);
    wrote = true;
  }
  if (!Array.isArray(repo.get("messages"))) {
    repo.set("messages", []);
    wrote = true;
  }
  return wrote;
}

/**
 * Appends a message to the participant's own repo with `repo.push`. The
 * text keeps its newlines but loses leading and trailing blank space; throws
 * a `RangeError` when nothing is left or it is longer than
 * {@linkcode MAX_MESSAGE_LENGTH}. Returns the message as stored.
 */
export function postMessage(
  repo: ChatWritable,
  text: string,
  at: number = Date.now(),
): ChatMessage {
  const clean = String(text).trim();
  if (clean.length === 0) {
    throw new RangeError("Cannot send: the message is empty");
  }
  if (clean.length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(
      `Cannot send: the message has ${clean.length} characters, the most is ${MAX_MESSAGE_LENGTH}`,
    );
  }
  if (!Number.isFinite(at)) {
    throw new RangeError(`Cannot send: the time ${at} is not a number`);
  }
  const message: ChatMessage = { text: clean, at };
  repo.push("messages", message);
  return message;
}

/** Whether `value` has the shape of a stored message. */
export function isMessage(value: unknown): value is ChatMessage {
  if (value === null || typeof value !== "object") return false;
  const m = value as Record<string, unknown>;
  return typeof m.text === "string" && typeof m.at === "number" &&
    Number.isFinite(m.at);
}

/**
 * The display name in a participant's repo, or the short key while the repo
 * has none (reactive on `name`).
 */
export function profileName(
  repo: ChatReadable | undefined,
  key: string,
): string {
  const name = repo?.get("name");
  if (typeof name === "string") {
    const clean = name.replace(/\s+/g, " ").trim().slice(0, MAX_NAME_LENGTH);
    if (clean) return clean;
  }
  return shortKey(key);
}

/**
 * The last `limit` well-formed messages of a participant's repo, with their
 * indexes. Reads the length and then only the items it returns, so a reader
 * re-runs when a message is added, not on every byte (reactive).
 */
export function tailMessages(
  repo: ChatReadable | undefined,
  limit: number = DEFAULT_HISTORY_LIMIT,
): { index: number; message: ChatMessage }[] {
  if (!repo) return [];
  const length = repo.get("messages", "length");
  if (typeof length !== "number" || length <= 0) return [];
  const out: { index: number; message: ChatMessage }[] = [];
  for (let i = Math.max(0, length - limit); i < length; i++) {
    const message = repo.get("messages", i);
    if (isMessage(message)) out.push({ index: i, message });
  }
  return out;
}

/** Orders lines by `at`, then sender key, then index: the same everywhere. */
export function compareLines(a: ChatLine, b: ChatLine): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.index - b.index;
}

/**
 * Merges line lists by `at` (see {@linkcode compareLines}), dropping repeated
 * ids (the later list's copy wins, so a fresher name replaces an older one),
 * and keeps the last `limit`.
 */
export function mergeLines(
  lists: readonly (readonly ChatLine[])[],
  limit: number = DEFAULT_HISTORY_LIMIT,
): ChatLine[] {
  const byId = new Map<string, ChatLine>();
  for (const list of lists) for (const line of list) byId.set(line.id, line);
  const all = [...byId.values()].sort(compareLines);
  return all.length > limit ? all.slice(all.length - limit) : all;
}

/**
 * The room's recent history: the last `limit` messages of all members,
 * merged by `at`, each with its sender's name. `repoOf` finds a member's
 * repo (or `undefined` while it is not loaded). Reactive on everything it
 * reads, so a component rendering it re-renders when a member joins, posts
 * or is renamed. Keys in `also` count as members too (e.g. your own key
 * before the room has added it).
 */
export function roomHistory(
  room: ChatReadable | undefined,
  repoOf: (key: string) => ChatReadable | undefined,
  limit: number = DEFAULT_HISTORY_LIMIT,
  also: readonly string[] = [],
): ChatLine[] {
  const lists: ChatLine[][] = [];
  for (const key of withKeys(roomMembers(room), also)) {
    const repo = repoOf(key);
    if (!repo) continue;
    const name = profileName(repo, key);
    lists.push(
      tailMessages(repo, limit).map(({ index, message }) => ({
        id: `${key}:${index}`,
        key,
        index,
        name,
        text: message.text,
        at: message.at,
      })),
    );
  }
  return mergeLines(lists, limit);
}

function withKeys(keys: string[], also: readonly string[]): string[] {
  for (const key of also) {
    if (isKeyHex(key) && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * The room's members with their names (reactive); keys in `also` are
 * listed too.
 */
export function roomMemberList(
  room: ChatReadable | undefined,
  repoOf: (key: string) => ChatReadable | undefined,
  also: readonly string[] = [],
): ChatMember[] {
  return withKeys(roomMembers(room), also).map((key) => ({
    key,
    name: profileName(repoOf(key), key),
  }));
}
