/**
 * A streamo node: your repo and every repo it syncs, in a file store;
 * optionally served on a web port (sync WebSocket, HTTP API, chat page) and
 * an outlet port (sync WebSocket and HTTP API for peers), and chained to
 * upstream nodes (`registrySync` to each origin, every repo both ways).
 * The node's own repo is a chat room: keys announced in it become members.
 *
 * @module
 */

import { DEFAULT_KEY_ITERATIONS } from "../lib/chat/identity.ts";
import { openChatRoom } from "../lib/chat/room.ts";
import type { ChatRoom } from "../lib/chat/room.ts";
import { Signer } from "../lib/identity/signer.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { createServer, type StreamoServer } from "../lib/server/app.ts";
import { openFileStorage } from "../lib/storage/file_storage.deno.ts";
import type { StorageDriver } from "../lib/storage/types.ts";
import { registrySync, type SyncSession } from "../lib/sync/client.ts";
import { Relay } from "../lib/sync/relay.ts";
import { type MountChat, mountChatPage } from "./page.ts";
import { bounded } from "./shutdown.ts";

/** Options for {@linkcode startNode}. */
export interface NodeOptions {
  /** Your repo's name (default `chat`). */
  name?: string;
  /** Username your key is derived from. */
  username: string;
  /** Password your key is derived from. */
  password: string;
  /** PBKDF2 iterations (default 600,000). */
  keyIterations?: number;
  /** The file store's directory (default `.streamo`); `null` keeps all in memory. */
  dataDir?: string | null;
  /** A storage driver to use instead of the file store (the caller closes it). */
  storage?: StorageDriver;
  /** Serve the web (sync, API, chat page) on this port (0 = any free one). */
  web?: number;
  /** Accept peers (sync, API) on this port (0 = any free one). */
  outlet?: number;
  /** Interface to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Upstream nodes' WebSocket URLs. */
  origins?: (string | URL)[];
  /**
   * Mounts the chat page on the web port (`mountChat` of `routes/mod.ts`,
   * in a checkout); used when the islands bundle exists.
   */
  mountChat?: MountChat;
  /** Longest wait for each shutdown step, ms (default 3,000). */
  closeTimeoutMs?: number;
  /** Where progress and events are logged (default: nowhere). */
  log?: (line: string) => void;
  /** Log every connection event, rejection and member (default false). */
  verbose?: boolean;
}

/** A port the node listens on. */
export interface Listening {
  /** `http://host:port/`. */
  url: string;
  /** The port actually bound. */
  port: number;
  /** The server's Hono app and relay. */
  server: StreamoServer;
}

/** A connection to an upstream node. */
export interface Origin {
  /** Its WebSocket URL. */
  url: URL;
  /** The sync session (reconnects by itself). */
  session: SyncSession;
}

/** A running node. */
export interface StreamoNode {
  /** Your repo's key (hex public key): the room address. */
  key: string;
  /** Your repo's name. */
  name: string;
  /** The room (your repo). */
  room: ChatRoom;
  /** Every repo the node holds. */
  registry: RepoRegistry;
  /** The relay shared by the web and outlet ports. */
  relay: Relay;
  /** The web port, with `web`. */
  web: Listening | undefined;
  /** Whether the web port serves the chat page. */
  chatPage: boolean;
  /** The outlet port, with `outlet`. */
  outlet: Listening | undefined;
  /** Upstream connections. */
  origins: Origin[];
  /**
   * Stops: closes upstream and peer connections (each wait bounded, so a
   * peer that never answers a close cannot hang it), then flushes and
   * closes the store.
   */
  close(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function listen(
  flag: string,
  port: number,
  hostname: string,
  handler: (request: Request) => Response | Promise<Response>,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({ port, hostname, onListen: () => {} }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `Cannot start: port ${port} (${flag}) is already in use on ${hostname}; stop what uses it, or choose another with ${flag} PORT (0 picks a free one)`,
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Error(
        `Cannot start: not allowed to listen on port ${port} (${flag}): ${
          describe(error)
        }; ports below 1024 need privileges`,
      );
    }
    throw new Error(
      `Cannot start: cannot listen on ${hostname}:${port} (${flag}): ${
        describe(error)
      }`,
    );
  }
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;
  return `http://${host}:${addr.port}/`;
}

/**
 * Starts a node: opens the store (loading every stored repo), derives your
 * key, opens your repo as the room, listens on the web and outlet ports and
 * connects to the origins. Throws an `Error` saying what could not start;
 * whatever had started is stopped again.
 */
export async function startNode(options: NodeOptions): Promise<StreamoNode> {
  const name = options.name ?? "chat";
  const hostname = options.hostname ?? "127.0.0.1";
  const timeoutMs = options.closeTimeoutMs ?? 3_000;
  const log = options.log ?? (() => {});
  const verbose = options.verbose ? log : () => {};
  const ownStorage = !options.storage && options.dataDir !== null;
  let storage = options.storage;
  const http: Deno.HttpServer<Deno.NetAddr>[] = [];
  const origins: Origin[] = [];
  let registry: RepoRegistry | undefined;
  let relay: Relay | undefined;
  let room: ChatRoom | undefined;

  const stop = async () => {
    await Promise.all(
      origins.map((o) =>
        bounded(o.session.close(), timeoutMs, `closing ${o.url}`, log)
      ),
    );
    if (relay) {
      await bounded(relay.close(), timeoutMs, "closing peer connections", log);
    }
    await Promise.all(
      http.map((server) =>
        bounded(server.shutdown(), timeoutMs, "stopping the HTTP server", log)
      ),
    );
    if (room) {
      await bounded(room.repo.whenSigned(), timeoutMs, "signing", log)
        .catch((error) =>
          log(`Cannot sign the room's last change: ${describe(error)}`)
        );
    }
    try {
      await registry?.close();
    } finally {
      if (ownStorage) await storage?.close();
    }
  };

  try {
    if (ownStorage) {
      const dir = options.dataDir ?? ".streamo";
      try {
        storage = await openFileStorage(dir);
      } catch (error) {
        throw new Error(
          `Cannot open the data directory ${dir}: ${describe(error)}`,
        );
      }
    }
    registry = new RepoRegistry({ storage });
    await registry.openStored();
    const keyIterations = options.keyIterations ?? DEFAULT_KEY_ITERATIONS;
    const signer = new Signer(
      options.username,
      options.password,
      keyIterations,
    );
    room = await openChatRoom(registry, signer, name);
    const theRoom = room;
    relay = new Relay(registry, {
      onAnnounce: (announce, connection) => {
        try {
          if (theRoom.announce(announce)) {
            verbose(
              `member ${announce.key} joined (connection ${connection.id})`,
            );
          }
        } catch (error) {
          log(`Cannot add an announced member to the room: ${describe(error)}`);
        }
      },
      onReject: (event, connection) =>
        verbose(
          `reject ${event.direction} on ${connection.id}: ${event.reason}${
            event.key ? ` ${event.key.slice(0, 8)}…` : ""
          }${event.message ? ` (${event.message})` : ""}`,
        ),
      onPresence: (presence, connection) =>
        verbose(
          `presence ${presence.state === null ? "gone" : "here"} ${
            presence.key?.slice(0, 8) ?? "?"
          }… on ${connection.id}`,
        ),
    });
    const info = { primaryKeyHex: room.key, name, keyIterations };
    const serve = (
      flag: string,
      port: number,
      server: StreamoServer,
    ): Listening => {
      const h = listen(flag, port, hostname, server.fetch);
      http.push(h);
      return { url: urlOf(h.addr), port: h.addr.port, server };
    };
    let web: Listening | undefined;
    let chatPage = false;
    if (options.web !== undefined) {
      const server = createServer({ registry, info, relay });
      chatPage = await mountChatPage(
        server.app,
        { roomKey: room.key, name, keyIterations },
        registry,
        options.mountChat,
      );
      web = serve("--web", options.web, server);
    }
    let outlet: Listening | undefined;
    if (options.outlet !== undefined) {
      const server = createServer({ registry, info, relay });
      outlet = serve("--outlet", options.outlet, server);
    }
    for (const origin of options.origins ?? []) {
      const url = new URL(origin);
      const session = registrySync(registry, {
        url,
        onStatus: (status) => log(`origin ${url.href}: ${status}`),
        onReject: (event) =>
          verbose(
            `reject ${event.direction} with origin ${url.href}: ${event.reason}${
              event.message ? ` (${event.message})` : ""
            }`,
          ),
      });
      origins.push({ url, session });
    }
    let closing: Promise<void> | undefined;
    return {
      key: room.key,
      name,
      room,
      registry,
      relay,
      web,
      chatPage,
      outlet,
      origins,
      close: () => closing ??= stop(),
    };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}
