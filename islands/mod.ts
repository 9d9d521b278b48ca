/**
 * The browser entry, bundled into `static/build/`: hydrates every island
 * over the server's HTML at once (with the same props, so nothing changes
 * on screen), then loads the chat client — sync, store, crypto — as a lazy
 * chunk and hands it to the islands, which go live.
 *
 * Progress marks on `<html>` (for tests and styles): `data-hydrated` once
 * the islands are hydrated; `data-ready` once the client has loaded this
 * device's data and started connecting; `data-connection` follows the
 * connection's status; `data-me` holds the signed-in key.
 *
 * @module
 */

import { effect, signal } from "@preact/signals";
import { h } from "preact";
import { hydrateIslands } from "../lib/preact/islands.ts";
import type { ChatView } from "../lib/chat/view.ts";
import type { ChatConfig } from "../lib/chat/app.ts";
import { ChatContext } from "../components/context.ts";
import MessageList from "./MessageList.tsx";
import Composer from "./Composer.tsx";
import SignIn from "./SignIn.tsx";
import Members from "./Members.tsx";
import ConnectionBanner from "./ConnectionBanner.tsx";

async function main(): Promise<void> {
  const root = document.documentElement;
  const configText = document.getElementById("__streamo_chat")?.textContent;
  if (!configText) {
    throw new Error("Cannot start the chat: the page carries no config");
  }
  const config = JSON.parse(configText) as ChatConfig;

  const chat = signal<ChatView | null>(null);
  hydrateIslands(
    { MessageList, Composer, SignIn, Members, ConnectionBanner },
    { wrap: (vnode) => h(ChatContext.Provider, { value: chat }, vnode) },
  );
  root.dataset.hydrated = "1";

  const { createBrowserChat } = await import(
    "../lib/chat/client.browser.ts"
  );
  const app = await createBrowserChat(config);
  effect(() => {
    root.dataset.connection = app.status.value;
  });
  effect(() => {
    const me = app.me.value;
    if (me) root.dataset.me = me.key;
    else delete root.dataset.me;
  });
  chat.value = app;
  await app.start();
  root.dataset.ready = "1";
  // For tests and the curious: the running client.
  (globalThis as { streamoChat?: unknown }).streamoChat = app;
}

main().catch((error) => {
  console.error("The chat client failed to start:", error);
  document.documentElement.dataset.failed = String(error?.message ?? error);
});
