/**
 * Adapts Hono's `WSContext` (any runtime) to the sync `Transport`.
 *
 * @module
 */

import type { WSContext } from "hono/ws";
import type { Transport } from "../sync/transport.ts";

/** A `Transport` fed by Hono's WebSocket events. */
export interface WSContextTransport extends Transport {
  /** Hand a Hono `onMessage` event to it. */
  dispatchMessage(event: MessageEvent): void;
  /** Hand a Hono `onClose` event to it. */
  dispatchClose(event: CloseEvent): void;
}

/**
 * A `Transport` over an open Hono `WSContext`. Wire Hono's `onMessage` and
 * `onClose` to `dispatchMessage` and `dispatchClose`. `bufferedAmount` is
 * read from the runtime's socket (`ws.raw`) when it has one, else 0.
 */
export function wsContextTransport(ws: WSContext): WSContextTransport {
  let closed = false;
  const transport: WSContextTransport = {
    send(data) {
      ws.send(data);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    get bufferedAmount() {
      const raw = ws.raw as { bufferedAmount?: number } | undefined;
      return raw?.bufferedAmount ?? 0;
    },
    get readyState() {
      return closed ? 3 : ws.readyState;
    },
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    dispatchMessage(event) {
      transport.onmessage?.(event);
    },
    dispatchClose(event) {
      if (closed) return;
      closed = true;
      transport.onclose?.(event);
    },
  };
  return transport;
}
