/**
 * The chat server (Deno): one process that is the relay and the chat room.
 * The room is the server's own repo, persisted with the file driver; the
 * chat page and static files are mounted on the relay's Hono app.
 *
 * @module
 */

import { Signer } from "../lib/identity/signer.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { createServer, type StreamoServer } from "../lib/server/app.ts";
import { openFileStorage } from "../lib/storage/file_storage.deno.ts";
import type { StorageDriver } from "../lib/storage/types.ts";
import { type ChatRoom, openChatRoom } from "../lib/chat/room.ts";
import { openSharedChatRoom } from "../lib/chat/shared_room.ts";
import { BroadcastFanout } from "../lib/sync/broadcast.ts";
import { CHAT_NAME, DEFAULT_HISTORY_LIMIT } from "../lib/chat/model.ts";
import { DEFAULT_KEY_ITERATIONS } from "../lib/chat/identity.ts";
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_PRESENCE_TIMEOUT_MS,
} from "../lib/chat/presence.ts";
import { mountChat } from "./mod.ts";
import type { ChatPageConfig } from "./index.tsx";

/** Options for {@linkcode startChatServer}. */
export interface ChatServerOptions {
  /** The room repo's name (default `chat`). */
  name?: string;
  /** Username the room's key is derived from. */
  username: string;
  /** Password the room's key is derived from. */
  password: string;
  /**
   * Directory of the file store (default `.streamo`); `null` keeps
   * everything in memory.
   */
  dataDir?: string | null;
  /** A storage driver to use instead of the file store. */
  storage?: StorageDriver;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  hostname?: string;
  /** PBKDF2 iterations for every key (default 600,000). */
  keyIterations?: number;
  /** Messages on the page (default 200). */
  historyLimit?: number;
  /** Presence heartbeat clients use, ms (default 10 s). */
  heartbeatMs?: number;
  /** Presence timeout clients use, ms (default 25 s). */
  presenceTimeoutMs?: number;
  /**
   * Serve alongside other isolates sharing `storage` (Deno KV on Deno
   * Deploy): every verified range is fanned out to them over the
   * `BroadcastChannel` of this name, and room writes are arbitrated by the
   * storage (`SharedChatRoom`). Unset: this process is the only server.
   */
  broadcast?: string;
}

/** A running chat server. */
export interface ChatServer {
  /** `http://host:port/`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** The room. */
  room: ChatRoom;
  /** The repos it holds. */
  registry: RepoRegistry;
  /** The relay server (Hono app, relay). */
  server: StreamoServer;
  /** The page settings clients get. */
  config: ChatPageConfig;
  /** The fan-out to other isolates (with the `broadcast` option). */
  fanout: BroadcastFanout | undefined;
  /** Stops serving, closes every connection and flushes storage. */
  close(): Promise<void>;
}

/**
 * Starts the chat server: loads the store, opens the room (adding every key
 * announced in it to `members`), and serves the relay, `/api/info`,
 * `/streams/:key` and the chat page.
 */
export async function startChatServer(
  options: ChatServerOptions,
): Promise<ChatServer> {
  const name = options.name ?? CHAT_NAME;
  const keyIterations = options.keyIterations ?? DEFAULT_KEY_ITERATIONS;
  let storage = options.storage;
  const ownStorage = !storage && options.dataDir !== null;
  if (ownStorage) {
    storage = await openFileStorage(options.dataDir ?? ".streamo");
  }
  const registry = new RepoRegistry({ storage });
  const fanout = options.broadcast
    ? new BroadcastFanout(registry, { channel: options.broadcast })
    : undefined;
  try {
    await registry.openStored();
    const signer = new Signer(
      options.username,
      options.password,
      keyIterations,
    );
    const room = fanout
      ? await openSharedChatRoom(registry, signer, name)
      : await openChatRoom(registry, signer, name);
    const config: ChatPageConfig = {
      roomKey: room.key,
      name,
      keyIterations,
      historyLimit: options.historyLimit ?? DEFAULT_HISTORY_LIMIT,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      presenceTimeoutMs: options.presenceTimeoutMs ??
        DEFAULT_PRESENCE_TIMEOUT_MS,
    };
    const server = createServer({
      registry,
      info: { primaryKeyHex: room.key, name, keyIterations },
      onAnnounce: (announce) => {
        try {
          room.announce(announce);
        } catch (error) {
          console.error("Cannot add an announced member to the room:", error);
        }
      },
    });
    mountChat(server.app, { config, repoOf: (key) => registry.get(key) });
    const http = Deno.serve({
      port: options.port ?? 8000,
      hostname: options.hostname ?? "127.0.0.1",
      onListen: () => {},
    }, server.fetch);
    const port = http.addr.port;
    const host = http.addr.hostname.includes(":")
      ? `[${http.addr.hostname}]`
      : http.addr.hostname;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}/`,
      port,
      room,
      registry,
      server,
      config,
      fanout,
      close: () =>
        closing ??= (async () => {
          await server.close();
          await http.shutdown();
          await fanout?.close();
          await registry.close();
          if (ownStorage) await storage!.close();
        })(),
    };
  } catch (error) {
    await fanout?.close();
    await registry.close().catch(() => {});
    if (ownStorage) await storage!.close().catch(() => {});
    throw error;
  }
}
