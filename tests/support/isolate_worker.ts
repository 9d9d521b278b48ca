/**
 * One simulated Deno Deploy isolate, run as a `Worker`: the chat server on
 * 127.0.0.1 (port 0) over a shared Deno KV file, fanning out on a shared
 * `BroadcastChannel`. Messages in: `{type: "start", …}`, `{type: "close"}`.
 * Messages out: `{type: "started", url}`, `{type: "closed", stats}`,
 * `{type: "error", message}`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { openKvStorage } from "../../lib/storage/kv_storage.deno.ts";
import type { StorageDriver } from "../../lib/storage/types.ts";
import { type ChatServer, startChatServer } from "../../routes/server.ts";

/** What the test sends to start the isolate. */
export interface IsolateStart {
  type: "start";
  kvPath: string;
  channel: string;
  username: string;
  password: string;
  keyIterations: number;
}

let chat: ChatServer | undefined;
let storage: StorageDriver | undefined;

self.onmessage = async (event: MessageEvent) => {
  const message = event.data as IsolateStart | { type: "close" };
  try {
    if (message.type === "start") {
      storage = await openKvStorage(message.kvPath);
      chat = await startChatServer({
        username: message.username,
        password: message.password,
        keyIterations: message.keyIterations,
        storage,
        broadcast: message.channel,
        port: 0,
        heartbeatMs: 200,
        presenceTimeoutMs: 1000,
      });
      self.postMessage({ type: "started", url: chat.url });
    } else if (message.type === "close") {
      const stats = chat?.fanout?.stats;
      await chat?.close();
      await storage?.close();
      self.postMessage({ type: "closed", stats });
      self.close();
    }
  } catch (error) {
    self.postMessage({
      type: "error",
      message: error instanceof Error ? error.stack : String(error),
    });
  }
};
