/**
 * The chat (SPEC §7), runtime-neutral: the data model (room `members`,
 * participant `{ name, messages: [{ text, at }] }`, history merged by `at`),
 * presence, identities, the room side, and `ChatApp`, the client the
 * browser islands run. Browser-only pieces live in `*.browser.ts` files.
 * Import it as `@streamo/streamo/chat`; the core types it refers to are
 * re-exported here as types (their values come from `@streamo/streamo`).
 *
 * @example
 * ```ts ignore
 * import { RepoRegistry, registrySync } from "@streamo/streamo";
 * import { ChatApp } from "@streamo/streamo/chat";
 * const app = new ChatApp({
 *   config: { roomKey, keyIterations: 600_000 },
 *   registry: new RepoRegistry(),
 *   sync: registrySync,
 *   url: "wss://chat.example/",
 * });
 * await app.start();
 * await app.signIn("alice", "correct horse", true);
 * app.send("hello");
 * ```
 *
 * @module
 */

export * from "./model.ts";
export * from "./presence.ts";
export * from "./identity.ts";
export { ChatRoom, openChatRoom } from "./room.ts";
export {
  ChatApp,
  type ChatAppOptions,
  type ChatConfig,
  type SyncFactory,
} from "./app.ts";
export type {
  ChatView,
  ConnectionStatus,
  RebaseNotice,
  SignedIn,
} from "./view.ts";
export {
  type NetworkWatch,
  OFFLINE_CLOSE_CODE,
  OnlineTransport,
} from "./online_transport.ts";
// The core types the chat API refers to (values: `@streamo/streamo`).
export type * from "../mod.ts";
