/**
 * A WebSocket transport that follows the network: while the runtime says it
 * is offline it does not dial (it waits, "connecting", until the network
 * returns, so reconnecting is immediate), and when the network goes away it
 * drops the open socket at once instead of waiting for a keepalive to
 * notice. Sync's reconnect loop then does the rest.
 *
 * @module
 */

import type { Transport } from "../sync/transport.ts";

/** The network as the runtime reports it (`navigator.onLine` and its events). */
export interface NetworkWatch {
  /** Whether the network is up now. */
  online(): boolean;
  /** Calls `fn` on every change; returns a stop function. */
  onChange(fn: (online: boolean) => void): () => void;
}

/** Close code sent when the network went away (private-use range). */
export const OFFLINE_CLOSE_CODE = 4001;

/**
 * A {@linkcode Transport} that opens `open()` (a WebSocket) only while the
 * network is up, and closes it when the network goes down.
 */
export class OnlineTransport implements Transport {
  readonly #open: () => Transport;
  readonly #stopWatch: () => void;
  #socket: Transport | undefined;
  #closed = false;
  binaryType?: string = "arraybuffer";
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  /** Dials with `open` now if `network` is up, else once it comes back. */
  constructor(open: () => Transport, network: NetworkWatch) {
    this.#open = open;
    this.#stopWatch = network.onChange((online) => {
      if (online && !this.#socket && !this.#closed) this.#dial();
      else if (!online && !this.#closed) {
        this.#finish(OFFLINE_CLOSE_CODE, "the network went away");
      }
    });
    if (network.online()) this.#dial();
  }

  /** 0 while waiting or dialing, then the socket's state. */
  get readyState(): number {
    if (this.#closed) return 3;
    return this.#socket?.readyState ?? 0;
  }

  /** Bytes the socket has queued. */
  get bufferedAmount(): number {
    return this.#socket?.bufferedAmount ?? 0;
  }

  /** Sends on the socket. Throws if it is not open. */
  send(data: string | Uint8Array<ArrayBuffer>): void {
    if (!this.#socket) {
      throw new Error("Cannot send: the connection is not open (offline)");
    }
    this.#socket.send(data);
  }

  /** Closes the socket (or stops waiting for the network). */
  close(code?: number, reason?: string): void {
    this.#finish(code ?? 1000, reason ?? "");
  }

  #dial(): void {
    const socket = this.#open();
    this.#socket = socket;
    if (this.binaryType && "binaryType" in socket) {
      socket.binaryType = this.binaryType;
    }
    socket.onopen = (event) => this.onopen?.(event);
    socket.onmessage = (event) => this.onmessage?.(event);
    socket.onerror = (event) => this.onerror?.(event);
    socket.onclose = (event) => {
      if (this.#closed) return;
      this.#closed = true;
      this.#stopWatch();
      this.onclose?.(event);
    };
  }

  #finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatch();
    const socket = this.#socket;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = null;
      socket.onclose = null;
      try {
        socket.close(code, reason);
      } catch {
        // Already closing.
      }
    }
    // Report the close now: an unreachable peer may never answer it.
    queueMicrotask(() =>
      this.onclose?.(
        { code, reason, wasClean: false } as unknown as CloseEvent,
      )
    );
  }
}
