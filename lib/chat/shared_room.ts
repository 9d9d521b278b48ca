/**
 * A chat room served by several isolates at once (Deno Deploy): each holds
 * the room's credentials, and every write to the room goes through the
 * shared storage ({@linkcode SharedWriter}) so that two isolates adding
 * members at the same moment never fork it. Runtime-neutral.
 *
 * @module
 */

import { bytesToHex } from "../codec/hex.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import { SharedWriter } from "../registry/shared_writer.ts";
import type { RepoSigner } from "../store/repo.ts";
import { addMember, CHAT_NAME, isKeyHex } from "./model.ts";
import { ChatRoom, ensureMembers } from "./room.ts";

/**
 * A {@linkcode ChatRoom} whose writes are arbitrated by the shared storage.
 * The room repo in the registry carries no signer: it only ingests the
 * commits that won.
 */
export class SharedChatRoom extends ChatRoom {
  readonly #writer: SharedWriter;
  readonly #signer: RepoSigner;
  readonly #name: string;

  /** Wraps the open room repo; commits go through `writer`. */
  constructor(
    repo: ChatRoom["repo"],
    writer: SharedWriter,
    signer: RepoSigner,
    name: string,
  ) {
    super(repo);
    this.#writer = writer;
    this.#signer = signer;
    this.#name = name;
  }

  /**
   * Handles an `announce` like {@linkcode ChatRoom.announce}, but the member
   * is added asynchronously (see {@linkcode SharedChatRoom.add}); returns
   * whether an add was started. Failures are logged.
   */
  override announce(announce: { key: string; topic: string }): boolean {
    if (announce.topic !== this.key) return false;
    if (!isKeyHex(announce.key) || announce.key === this.key) return false;
    if (this.members().includes(announce.key)) return false;
    this.add(announce.key).catch((error) =>
      console.error(
        `Cannot add ${announce.key.slice(0, 8)}… to the room:`,
        error,
      )
    );
    return true;
  }

  /**
   * Adds `key` to `members` through the shared storage; resolves with
   * whether this call added it (false: it was a member already, maybe added
   * by another isolate).
   */
  add(key: string): Promise<boolean> {
    return this.#writer.commit(
      this.key,
      this.#signer,
      this.#name,
      (draft) => addMember(draft, key),
    );
  }
}

/**
 * Opens the room of `signer`'s key for `name` in `registry` (whose storage
 * is shared by every isolate) and makes sure it holds `{ members }` —
 * written through the storage, so isolates starting together create it
 * once.
 */
export async function openSharedChatRoom(
  registry: RepoRegistry,
  signer: RepoSigner,
  name: string = CHAT_NAME,
): Promise<SharedChatRoom> {
  const { publicKey } = await signer.keysFor(name);
  const key = bytesToHex(publicKey);
  const repo = await registry.open(key);
  const writer = new SharedWriter(registry);
  await writer.commit(key, signer, name, ensureMembers);
  return new SharedChatRoom(repo, writer, signer, name);
}
