/**
 * The relay server as a Hono app: the WebSocket endpoint at `/` and the
 * HTTP API of SPEC §6.
 *
 * @module
 */

import { Hono } from "hono";
import { encodeFrames } from "../codec/frames.ts";
import { isRepoKey } from "../registry/key.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { AnnounceEvent, PresenceEvent } from "../sync/client.ts";
import type { SyncLimits } from "../sync/limits.ts";
import type { RejectEvent } from "../sync/peer.ts";
import { Relay, type SyncConnection } from "../sync/relay.ts";
import { toJsonValue } from "./json_value.ts";
import { relayWebSocket } from "./websocket.deno.ts";

/** What `GET /api/info` tells clients (SPEC §6). */
export interface ServerInfo {
  /** The server's own repo key (the chat room's address). */
  primaryKeyHex: string;
  /** The repo name the server's key was derived for (the chat uses `chat`). */
  name: string;
  /** PBKDF2 iterations clients use to derive their keys. */
  keyIterations: number;
}

/** Options for {@linkcode createServer}. */
export interface ServerOptions {
  /** The repos the server relays and serves. */
  registry: RepoRegistry;
  /** What `/api/info` returns (a function is called per request). */
  info: ServerInfo | (() => ServerInfo);
  /** Limits on each connection, and `maxConnections`. */
  limits?: SyncLimits;
  /** Which repos the relay carries (default all). */
  filter?: (key: string) => boolean;
  /** Called with each `announce` (the chat room adds the key to `members`). */
  onAnnounce?: (announce: AnnounceEvent, connection: SyncConnection) => void;
  /** Called with each presence update. */
  onPresence?: (presence: PresenceEvent, connection: SyncConnection) => void;
  /** Called with each rejection, both directions. */
  onReject?: (event: RejectEvent, connection: SyncConnection) => void;
  /**
   * Serve this relay instead of making one — to serve one relay (one set
   * of topics and presence) on several ports. `limits`, `filter` and the
   * `on…` callbacks are then the relay's own and ignored here.
   */
  relay?: Relay;
}

/** A relay server: mount `fetch` on `Deno.serve`, add routes to `app`. */
export interface StreamoServer {
  /**
   * The Hono app. `GET /` upgrades WebSocket requests and passes others on,
   * so a page can be routed at `/` too.
   */
  app: Hono;
  /** The relay behind the WebSocket endpoint. */
  relay: Relay;
  /** The registry served. */
  registry: RepoRegistry;
  /** The app's request handler. */
  fetch: (request: Request) => Response | Promise<Response>;
  /** Closes every sync connection (code 1012, so clients reconnect). */
  close(): Promise<void>;
}

/**
 * The relay server: WebSocket sync at `/` (multi-repo and single-stream),
 * and the HTTP API:
 *
 * - `GET /api/info` → `{ primaryKeyHex, name, keyIterations }`
 * - `GET /streams/:key` → the repo's current value as JSON (see
 *   `toJsonValue` for `undefined`, dates, bytes); 400 for a malformed key,
 *   404 for a repo the server does not hold, both with `{ error }`.
 * - `GET /streams/:key/raw` → its verified chunk frames so far
 *   (`application/octet-stream`).
 *
 * @example
 * ```ts ignore
 * const server = createServer({ registry, info });
 * Deno.serve({ port: 8000 }, server.fetch);
 * ```
 */
export function createServer(options: ServerOptions): StreamoServer {
  const { registry } = options;
  const relay = options.relay ?? new Relay(registry, {
    limits: options.limits,
    filter: options.filter,
    onAnnounce: options.onAnnounce,
    onPresence: options.onPresence,
    onReject: options.onReject,
  });
  const app = new Hono();
  app.get("/", relayWebSocket(relay));
  app.get("/api/info", (c) => {
    const info = typeof options.info === "function"
      ? options.info()
      : options.info;
    return c.json({
      primaryKeyHex: info.primaryKeyHex,
      name: info.name,
      keyIterations: info.keyIterations,
    });
  });
  const repoFor = (key: string) => {
    if (!isRepoKey(key)) {
      return {
        status: 400 as const,
        error: `${
          JSON.stringify(key.slice(0, 80))
        } is not a repo key (66 lower-case hex characters starting with 02 or 03)`,
      };
    }
    const repo = registry.get(key);
    if (!repo) {
      return {
        status: 404 as const,
        error: `this server holds no repo ${key}`,
      };
    }
    return { repo };
  };
  app.get("/streams/:key/raw", (c) => {
    const found = repoFor(c.req.param("key"));
    if (!found.repo) return c.json({ error: found.error }, found.status);
    const frames = encodeFrames(found.repo.chunksBetween(0));
    return new Response(frames as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "application/octet-stream",
        "cache-control": "no-store",
      },
    });
  });
  app.get("/streams/:key", (c) => {
    const found = repoFor(c.req.param("key"));
    if (!found.repo) return c.json({ error: found.error }, found.status);
    c.header("cache-control", "no-store");
    return c.json(toJsonValue(found.repo.get()));
  });
  return {
    app,
    relay,
    registry,
    fetch: (request) => app.fetch(request),
    close: () => relay.close(),
  };
}
