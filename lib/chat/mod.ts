/**
 * The chat (SPEC §7), runtime-neutral: the data model (room `members`,
 * participant `{ name, messages: [{ text, at }] }`, history merged by `at`),
 * presence, identities, the room side, and `ChatApp`, the client the
 * browser islands run. Browser-only pieces live in `*.browser.ts` files.
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
export type { ChatView, ConnectionStatus, SignedIn } from "./view.ts";
export {
  type NetworkWatch,
  OFFLINE_CLOSE_CODE,
  OnlineTransport,
} from "./online_transport.ts";
