/**
 * The room side of the chat (SPEC §7): the server's own repo holds
 * `{ members: [keyHex…] }`, and every key announced in the room's topic is
 * added to it. Runtime-neutral.
 *
 * @module
 */

import { bytesToHex } from "../codec/hex.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { Repo, RepoSigner } from "../store/repo.ts";
import {
  addMember,
  CHAT_NAME,
  type ChatWritable,
  isKeyHex,
  roomMembers,
} from "./model.ts";

/** A chat room: the room repo and the rule that adds announced members. */
export class ChatRoom {
  /** The room's key (its repo key; the topic clients announce in). */
  readonly key: string;
  /** The room repo (signed by the room's owner). */
  readonly repo: Repo;

  /** Wraps an open room repo whose signer is attached. */
  constructor(repo: Repo) {
    if (!repo.key) {
      throw new TypeError("Cannot make a chat room: the repo has no key");
    }
    this.key = repo.key;
    this.repo = repo;
  }

  /** The member keys, in joining order (reactive). */
  members(): string[] {
    return roomMembers(this.repo);
  }

  /**
   * Handles an `announce`: a well-formed key announced in this room's topic
   * becomes a member (once). Returns whether it was added.
   */
  announce(announce: { key: string; topic: string }): boolean {
    if (announce.topic !== this.key) return false;
    if (!isKeyHex(announce.key) || announce.key === this.key) return false;
    return addMember(this.repo, announce.key);
  }
}

/**
 * Opens (or creates) the room repo of `signer`'s key for `name` in
 * `registry`, attaches the signer and makes sure it holds `{ members }`.
 */
export async function openChatRoom(
  registry: RepoRegistry,
  signer: RepoSigner,
  name: string = CHAT_NAME,
): Promise<ChatRoom> {
  const { publicKey } = await signer.keysFor(name);
  const key = bytesToHex(publicKey);
  const repo = await registry.open(key);
  await repo.attachSigner(signer, name);
  if (ensureMembers(repo)) await repo.whenSigned();
  return new ChatRoom(repo);
}

/**
 * Makes sure `room` holds a `members` array: an object value gets an empty
 * one, any other value is replaced by `{ members: [] }`. Returns whether
 * anything was written.
 */
export function ensureMembers(room: ChatWritable): boolean {
  if (Array.isArray(room.get("members"))) return false;
  const value = room.get();
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    room.set("members", []);
  } else {
    room.set({ members: [] });
  }
  return true;
}
