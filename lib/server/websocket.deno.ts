/**
 * The relay's WebSocket endpoint on Deno, through Hono's `hono/deno`
 * `upgradeWebSocket`.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { upgradeWebSocket } from "hono/deno";
import type { Relay } from "../sync/relay.ts";
import { wsContextTransport } from "./ws_transport.ts";

/**
 * Middleware that upgrades WebSocket requests and hands them to `relay`;
 * other requests fall through to the next handler. When the relay is at
 * its connection limit it answers HTTP 503 with a JSON reason instead of
 * upgrading.
 */
export function relayWebSocket(relay: Relay): MiddlewareHandler {
  let upgrading = 0;
  const upgrade = upgradeWebSocket(() => {
    upgrading++;
    let pending = true;
    const settle = () => {
      if (pending) {
        pending = false;
        upgrading--;
      }
    };
    let transport: ReturnType<typeof wsContextTransport> | undefined;
    return {
      onOpen(_event, ws) {
        settle();
        transport = wsContextTransport(ws);
        relay.accept(transport);
      },
      onMessage(event, _ws) {
        transport?.dispatchMessage(event);
      },
      onClose(event, _ws) {
        settle();
        transport?.dispatchClose(event);
      },
      onError() {},
    };
  });
  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return await next();
    }
    if (relay.full || relay.size + upgrading >= relay.maxConnections) {
      return c.json(
        {
          error: "too many connections",
          limit: relay.maxConnections,
        },
        503,
        { "retry-after": "5" },
      );
    }
    return await upgrade(c, next);
  };
}
