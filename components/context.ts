/**
 * The chat client the islands share. The browser entry provides a signal
 * that holds `null` until the client (loaded lazily) is running, so the
 * first client render — during hydration — matches the server's render
 * exactly; islands re-render live once the client arrives. On the server
 * there is no provider: islands render from their props only.
 *
 * @module
 */

import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ReadonlySignal } from "@preact/signals";
import type { ChatView } from "../lib/chat/view.ts";

/** Holds the chat client once it runs; absent during the server render. */
export const ChatContext = createContext<
  ReadonlySignal<ChatView | null> | null
>(
  null,
);

/**
 * The chat client, or `null` during the server render and until the client
 * has loaded. Reading it subscribes the calling component.
 */
export function useChat(): ChatView | null {
  return useContext(ChatContext)?.value ?? null;
}
