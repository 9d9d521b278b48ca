/**
 * The relay server (Deno): a Hono app with the sync WebSocket endpoint and
 * the HTTP API of SPEC §6. Import it as `@streamo/streamo/server`.
 *
 * @example
 * ```ts ignore
 * import { RepoRegistry, useFastestBackend } from "@streamo/streamo";
 * import { createServer } from "@streamo/streamo/server";
 * await useFastestBackend();
 * const server = createServer({ registry: new RepoRegistry(), info });
 * Deno.serve({ port: 8000 }, server.fetch);
 * ```
 *
 * @module
 */

export {
  createServer,
  type ServerInfo,
  type ServerOptions,
  type StreamoServer,
} from "./app.ts";
export { type Json, toJsonValue } from "./json_value.ts";
export { relayWebSocket } from "./websocket.deno.ts";
export { type WSContextTransport, wsContextTransport } from "./ws_transport.ts";
export type {
  AnnounceEvent,
  PresenceEvent,
  RejectEvent,
  Relay,
  SyncConnection,
  SyncLimits,
  Transport,
} from "../sync/mod.ts";
export type { RepoRegistry } from "../registry/mod.ts";
