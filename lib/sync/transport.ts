/**
 * The transport the sync protocol runs over: the shape of a WebSocket.
 *
 * @module
 */

/**
 * A message channel with the shape of a WebSocket: the browser's and Deno's
 * `WebSocket` fit as they are; a server adapts its socket type (see
 * `lib/server/websocket.deno.ts` for Hono's). Binary messages must arrive
 * as `ArrayBuffer` or `Uint8Array` (sync sets `binaryType` to
 * `"arraybuffer"` when the transport has one).
 */
export interface Transport {
  /** Sends a text or binary message. */
  send(data: string | Uint8Array<ArrayBuffer>): void;
  /** Closes the channel with an optional code (1000, 3000–4999) and reason. */
  close(code?: number, reason?: string): void;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed (as `WebSocket.readyState`). */
  readonly readyState: number;
  /** How binary messages arrive; set to `"arraybuffer"` by sync. */
  binaryType?: string;
  /** Called once the channel is open. */
  onopen: ((event: Event) => void) | null;
  /** Called with each message received. */
  onmessage: ((event: MessageEvent) => void) | null;
  /** Called once the channel is closed. */
  onclose: ((event: CloseEvent) => void) | null;
  /** Called when the channel fails (a close follows). */
  onerror: ((event: Event) => void) | null;
}

/** `WebSocket.readyState` of an open channel. */
export const OPEN = 1;

/** Close codes sync uses (RFC 6455 and the IANA registry). */
export const CloseCode = {
  /** Normal closure. */
  normal: 1000,
  /** The server is going away (shutting down). */
  goingAway: 1001,
  /** The peer broke the protocol. */
  protocolError: 1002,
  /** The peer violated a policy (flooding, bad handshake). */
  policyViolation: 1008,
  /** A message was too big. */
  tooBig: 1009,
  /** The server is restarting: reconnect. */
  serviceRestart: 1012,
  /** The server is overloaded (too many connections): try again later. */
  tryAgainLater: 1013,
} as const;

/** What a sync peer does with its transport's events. */
export interface TransportHandlers {
  /** Starts the protocol (the transport is open). */
  open(): void;
  /** Takes the data of one message. */
  message(data: unknown): void;
  /** Takes the close. */
  close(code: number, reason: string): void;
}

/**
 * Sets `transport`'s handlers for a sync peer: binary messages arrive as
 * `ArrayBuffer`s, errors are left to the close that follows, and
 * `handlers.open` runs now for a server or an open transport, else once it
 * opens.
 */
export function bindTransport(
  transport: Transport,
  role: "client" | "server",
  handlers: TransportHandlers,
): void {
  if ("binaryType" in transport) transport.binaryType = "arraybuffer";
  transport.onmessage = (event) => handlers.message(event.data);
  transport.onclose = (event) => handlers.close(event.code, event.reason);
  transport.onerror = () => {};
  if (role === "server" || transport.readyState === OPEN) handlers.open();
  else transport.onopen = () => handlers.open();
}

/**
 * The bytes of a binary message, or the text of a text message. Throws a
 * `TypeError` for a `Blob` (set `binaryType = "arraybuffer"`) or another
 * type.
 */
export function messageData(data: unknown): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError(
    `Cannot read message: expected text or binary data, got ${
      typeof Blob !== "undefined" && data instanceof Blob
        ? 'a Blob (set the transport\'s binaryType to "arraybuffer")'
        : typeof data
    }`,
  );
}
