/**
 * The chat client for browsers: a {@linkcode ChatApp} whose registry is
 * stored in IndexedDB (one database per room), whose identity store is
 * IndexedDB too, and which follows `navigator.onLine`. The islands load it
 * lazily, after hydration.
 *
 * @module
 */

import { RepoRegistry } from "../registry/registry.ts";
import { openIdbStorage } from "../storage/idb_storage.browser.ts";
import type { StorageDriver } from "../storage/types.ts";
import { registrySync } from "../sync/client.ts";
import { ChatApp, type ChatConfig } from "./app.ts";
import { IdbIdentityStore } from "./identity_idb.browser.ts";
import { type NetworkWatch, OnlineTransport } from "./online_transport.ts";

/** `localStorage` flag set while a key is remembered (read before first paint). */
export const REMEMBERED_FLAG = "streamo-remembered";

/** Options for {@linkcode createBrowserChat}. */
export interface BrowserChatOptions {
  /** The relay's WebSocket URL (default: `/` of this page's origin). */
  url?: string | URL;
}

/** The relay at `/` of this page's origin (`ws:`, or `wss:` under HTTPS). */
function sameOriginRelay(): URL {
  const here = new URL("/", location.href);
  here.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return here;
}

/**
 * Creates (does not start) the browser chat client for `config`. If
 * IndexedDB is unavailable, messages are kept in memory and the client says
 * so in its `error`.
 */
export async function createBrowserChat(
  config: ChatConfig,
  options: BrowserChatOptions = {},
): Promise<ChatApp> {
  let storage: StorageDriver | undefined;
  let problem: string | undefined;
  try {
    storage = await openIdbStorage(`streamo-${config.roomKey.slice(0, 16)}`);
  } catch (error) {
    problem = `This browser cannot store messages (${
      error instanceof Error ? error.message : error
    }): they are kept only until the page closes.`;
  }
  const url = options.url || sameOriginRelay();
  const network: NetworkWatch = {
    online: () => navigator.onLine,
    onChange(fn) {
      const up = () => fn(true);
      const down = () => fn(false);
      addEventListener("online", up);
      addEventListener("offline", down);
      return () => {
        removeEventListener("online", up);
        removeEventListener("offline", down);
      };
    },
  };
  const registry = new RepoRegistry({ storage });
  const app = new ChatApp({
    config,
    registry,
    sync: registrySync,
    url,
    syncOptions: {
      reconnect: { baseMs: 250, maxMs: 5_000 },
      // Dial only while the browser has a network; drop the socket as soon
      // as it goes away, and redial the moment it returns.
      connect: () => new OnlineTransport(() => new WebSocket(url), network),
    },
    identities: new IdbIdentityStore(),
    onRemember: (remembered) => {
      try {
        if (remembered) localStorage.setItem(REMEMBERED_FLAG, "1");
        else localStorage.removeItem(REMEMBERED_FLAG);
      } catch {
        // Storage disabled: only the pre-paint hint is lost.
      }
    },
  });
  if (problem) app.showError(problem);
  // Saving a range (or a rebase's rewritten tail) failed: say so, since
  // what follows is kept in memory only.
  registry.onError((error) =>
    app.showError(`This device could not save your chat: ${error.message}`)
  );
  app.setNetwork(network.online());
  network.onChange((online) => app.setNetwork(online));
  addEventListener("pagehide", () => app.leave());
  return app;
}
