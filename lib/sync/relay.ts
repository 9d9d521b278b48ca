/**
 * The server side: `acceptRegistrySync` runs one connection, and `Relay`
 * holds what spans connections — interest routing for `announce` and
 * presence, and the connection limit.
 *
 * @module
 */

import { isRepoKey } from "../registry/key.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import type { AnnounceEvent, PresenceEvent } from "./client.ts";
import {
  RateMeter,
  type ResolvedLimits,
  resolveLimits,
  type SyncLimits,
} from "./limits.ts";
import {
  type ControlMessage,
  type PresenceMessage,
  REGISTRY_HANDSHAKE,
  type UnknownMessage,
} from "./messages.ts";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  type RejectEvent,
  SyncPeer,
} from "./peer.ts";
import { StreamPeer } from "./single_stream.ts";
import { CloseCode, messageData, type Transport } from "./transport.ts";

/** Options for {@linkcode acceptRegistrySync}. */
export interface AcceptOptions {
  /** Limits on the client's input. */
  limits?: SyncLimits;
  /** Which repos this side carries (default all): others are refused with `reject filtered`. */
  filter?: (key: string) => boolean;
  /** Called with each `announce` the client sends. */
  onAnnounce?: (announce: AnnounceEvent, connection: SyncConnection) => void;
  /** Called with each rejection, both directions. */
  onReject?: (event: RejectEvent, connection: SyncConnection) => void;
  /** Called with interest, announce, presence and unknown messages (the relay's hook). */
  onControl?: (
    message: ControlMessage | UnknownMessage,
    connection: SyncConnection,
  ) => void;
  /** Called once the connection closed. */
  onClose?: (connection: SyncConnection) => void;
  /** Bytes per outgoing data message (default 64 KiB). */
  batchBytes?: number;
  /**
   * Longest wait, after `close()`, for the peer to answer the close, ms
   * (default 5,000); then the connection counts as closed anyway.
   */
  closeTimeoutMs?: number;
}

/** One accepted connection. */
export interface SyncConnection {
  /** Process-unique id. */
  readonly id: string;
  /** `"registry"` (multi-repo), `"stream"` (single-stream) or `"pending"` (no handshake yet). */
  readonly mode: "pending" | "registry" | "stream";
  /** Sends a control message (multi-repo mode only). */
  send(message: ControlMessage): void;
  /** Bytes sent and received so far. */
  readonly bytesSent: number;
  /** Bytes received so far. */
  readonly bytesReceived: number;
  /** Closes the connection; resolves once closed. */
  close(code?: number, reason?: string): Promise<void>;
  /** Resolves once the connection has closed. */
  readonly done: Promise<void>;
}

let nextConnectionId = 1;

function messageSize(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * `inner`, with every incoming message first shown to `admit`: messages it
 * refuses never reach the handlers set on the returned transport.
 */
function meteredTransport(
  inner: Transport,
  admit: (data: unknown) => boolean,
): Transport {
  const outer: Transport = {
    send: (data) => inner.send(data),
    close: (code, reason) => inner.close(code, reason),
    get bufferedAmount() {
      return inner.bufferedAmount;
    },
    get readyState() {
      return inner.readyState;
    },
    get binaryType() {
      return inner.binaryType;
    },
    set binaryType(type: string | undefined) {
      if ("binaryType" in inner) inner.binaryType = type;
    },
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  inner.onopen = (event) => outer.onopen?.(event);
  inner.onmessage = (event) => {
    if (admit(event.data)) outer.onmessage?.(event);
  };
  inner.onclose = (event) => outer.onclose?.(event);
  inner.onerror = (event) => outer.onerror?.(event);
  return outer;
}

/**
 * Runs the server side of one connection on an open `transport`: the first
 * message picks the mode — `registry` for multi-repo sync, a repo's hex key
 * for single-stream mode — and anything else closes the connection with
 * code 1002. A client sending more than `limits.maxMessagesPerSecond`
 * messages or `limits.maxBytesPerSecond` bytes per second (sustained) is
 * sent `reject {reason: "rate"}` (multi-repo mode) and closed with 1008.
 */
export function acceptRegistrySync(
  registry: RepoRegistry,
  socket: Transport,
  options: AcceptOptions = {},
): SyncConnection {
  const id = `c${nextConnectionId++}`;
  let mode: SyncConnection["mode"] = "pending";
  let peer: SyncPeer | StreamPeer | undefined;
  let closed = false;
  const limits = resolveLimits(options.limits);
  const meter = new RateMeter(
    limits.maxMessagesPerSecond,
    limits.maxBytesPerSecond,
  );
  let flooded = false;
  const transport = meteredTransport(socket, (data) => {
    if (flooded || closed) return false;
    const over = meter.take(messageSize(data));
    if (over === undefined) return true;
    flooded = true;
    const message = `${over}: this connection is closed for flooding`;
    if (mode === "registry") {
      const reject = { type: "reject" as const, reason: "rate" as const };
      try {
        socket.send(JSON.stringify({ ...reject, message }));
      } catch { /* closing anyway */ }
      options.onReject?.({ ...reject, message, direction: "sent" }, connection);
    }
    // Closing in a later task: closing in the same task as the send above
    // lets Deno drop the close frame (the client then sees an abrupt EOF).
    setTimeout(() => {
      if (!closed) {
        socket.close(
          CloseCode.policyViolation,
          `flooding: ${over}`.slice(0, 120),
        );
      }
    }, 0);
    return false;
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const connection: SyncConnection = {
    id,
    get mode() {
      return mode;
    },
    send(message) {
      if (peer instanceof SyncPeer) peer.send(message);
    },
    get bytesSent() {
      return peer?.bytesSent ?? 0;
    },
    get bytesReceived() {
      return peer?.bytesReceived ?? 0;
    },
    close(code = CloseCode.normal, reason = "") {
      if (closed) return done;
      if (peer) void peer.close(code, reason);
      else transport.close(code, reason);
      // A peer that never answers the close must not keep it open forever.
      if (!closed && closeTimer === undefined) {
        closeTimer = setTimeout(
          finish,
          options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
        );
      }
      return done;
    },
    done,
  };
  let closeTimer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    clearTimeout(closeTimer);
    if (closed) return;
    closed = true;
    options.onClose?.(connection);
    resolveDone();
  };
  if ("binaryType" in transport) transport.binaryType = "arraybuffer";
  transport.onerror = () => {};
  transport.onclose = finish;
  transport.onmessage = (event) => {
    let first: string | Uint8Array;
    try {
      first = messageData(event.data);
    } catch {
      first = "";
    }
    if (first === REGISTRY_HANDSHAKE) {
      mode = "registry";
      peer = new SyncPeer({
        registry,
        transport,
        role: "server",
        limits: options.limits,
        filter: options.filter,
        accept: options.filter,
        batchBytes: options.batchBytes,
        closeTimeoutMs: options.closeTimeoutMs,
        onControl: (m) => {
          if (!("unknown" in m) && m.type === "announce") {
            options.onAnnounce?.({ key: m.key, topic: m.topic }, connection);
          }
          options.onControl?.(m, connection);
        },
        onReject: (e) => options.onReject?.(e, connection),
        onClose: finish,
      });
      return;
    }
    if (typeof first === "string" && isRepoKey(first)) {
      mode = "stream";
      const key = first;
      if (options.filter && !options.filter(key)) {
        transport.close(
          CloseCode.policyViolation,
          "this relay does not carry that repo",
        );
        return;
      }
      // Hold the peer's frames until the repo is open.
      const held: unknown[] = [];
      transport.onmessage = (e) => held.push(e.data);
      registry.open(key).then((repo) => {
        if (closed) return;
        const stream = new StreamPeer({
          repo,
          transport,
          role: "server",
          limits: options.limits,
          batchBytes: options.batchBytes,
          onClose: finish,
        });
        peer = stream;
        const deliver = transport.onmessage!;
        for (const data of held) deliver(new MessageEvent("message", { data }));
      }, (error) => {
        transport.close(
          CloseCode.tryAgainLater,
          `cannot open the repo: ${(error as Error).message}`.slice(0, 120),
        );
      });
      return;
    }
    transport.close(
      CloseCode.protocolError,
      'expected "registry" or a repo key as the first message',
    );
  };
  return connection;
}

/** Options for {@linkcode Relay}. */
export interface RelayOptions
  extends Omit<AcceptOptions, "onControl" | "onClose"> {
  /** Called with each presence update a client sends (after the relay checked it). */
  onPresence?: (presence: PresenceEvent, connection: SyncConnection) => void;
}

interface PresenceEntry {
  message: PresenceMessage;
  expiresAt: number;
  from: SyncConnection;
}

/**
 * A relay: accepts connections (up to `limits.maxConnections`), syncs them
 * with one registry, and routes `announce` and `presence` to the other
 * connections interested in their topic. Presence is kept only in memory
 * (for newcomers' snapshot, until its ttl ends) and never written to a repo.
 *
 * @example
 * ```ts ignore
 * const relay = createRelay(registry, { onAnnounce: ({ key }) => addMember(key) });
 * // in a WebSocket handler:
 * relay.accept(socket);
 * ```
 */
export class Relay {
  readonly #registry: RepoRegistry;
  readonly #options: RelayOptions;
  readonly #limits: ResolvedLimits;
  readonly #connections = new Set<SyncConnection>();
  readonly #interests = new Map<string, Set<SyncConnection>>();
  readonly #topicsOf = new Map<SyncConnection, Set<string>>();
  readonly #presence = new Map<string, Map<string, PresenceEntry>>();
  #closed = false;

  /** A relay over `registry`. */
  constructor(registry: RepoRegistry, options: RelayOptions = {}) {
    this.#registry = registry;
    this.#options = options;
    this.#limits = resolveLimits(options.limits);
  }

  /** Open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /** The connection limit. */
  get maxConnections(): number {
    return this.#limits.maxConnections;
  }

  /** Whether a new connection would be refused (closed, or at `maxConnections`). */
  get full(): boolean {
    return this.#closed ||
      this.#connections.size >= this.#limits.maxConnections;
  }

  /** The open connections. */
  connections(): SyncConnection[] {
    return [...this.#connections];
  }

  /**
   * Runs sync on an open transport. When full, closes it with code 1013
   * ("try again later") and a reason, and returns `undefined`.
   */
  accept(transport: Transport): SyncConnection | undefined {
    if (this.full) {
      transport.close(
        CloseCode.tryAgainLater,
        this.#closed
          ? "the relay is shutting down"
          : `too many connections (limit ${this.#limits.maxConnections})`,
      );
      return undefined;
    }
    const connection = acceptRegistrySync(this.#registry, transport, {
      ...this.#options,
      onControl: (m, c) => this.#route(m, c),
      onClose: (c) => this.#remove(c),
    });
    this.#connections.add(connection);
    return connection;
  }

  /** Sends an `announce` from this relay to every connection interested in `topic`. */
  announce(key: string, topic: string): void {
    this.#forward(topic, { type: "announce", key, topic }, undefined);
  }

  /** Unexpired presence in `topic`. */
  presence(topic: string): PresenceEvent[] {
    const now = Date.now();
    const out: PresenceEvent[] = [];
    for (const entry of this.#presence.get(topic)?.values() ?? []) {
      if (entry.expiresAt <= now) continue;
      const { type: _type, ...rest } = entry.message;
      out.push({
        ...rest,
        ttl: entry.expiresAt - now,
        expiresAt: entry.expiresAt,
      });
    }
    return out;
  }

  /**
   * Closes every connection (code 1012 "service restart" by default, so
   * clients reconnect) and refuses new ones; resolves once all are closed,
   * each connection waiting at most `closeTimeoutMs` for its peer (a peer
   * that never answers a close cannot hang a shutdown).
   */
  async close(
    code: number = CloseCode.serviceRestart,
    reason = "the relay is shutting down",
  ): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#connections].map((c) => c.close(code, reason)),
    );
  }

  #route(m: ControlMessage | UnknownMessage, from: SyncConnection): void {
    if ("unknown" in m) return;
    switch (m.type) {
      case "interest": {
        let topics = this.#topicsOf.get(from);
        if (!topics) this.#topicsOf.set(from, topics = new Set());
        if (topics.has(m.key)) return;
        if (topics.size >= this.#limits.maxInterestsPerConnection) {
          from.send({
            type: "reject",
            reason: "limit",
            message:
              `at most ${this.#limits.maxInterestsPerConnection} interests per connection`,
          });
          return;
        }
        topics.add(m.key);
        let set = this.#interests.get(m.key);
        if (!set) this.#interests.set(m.key, set = new Set());
        set.add(from);
        const now = Date.now();
        for (const entry of this.#presence.get(m.key)?.values() ?? []) {
          if (entry.expiresAt <= now || entry.from === from) continue;
          from.send({ ...entry.message, ttl: entry.expiresAt - now });
        }
        return;
      }
      case "announce":
        this.#forward(m.topic, m, from);
        return;
      case "presence":
        this.#presenceFrom(m, from);
        return;
    }
  }

  #presenceFrom(m: PresenceMessage, from: SyncConnection): void {
    const text = JSON.stringify(m.state ?? null);
    if (text.length > this.#limits.maxPresenceBytes) {
      from.send({
        type: "reject",
        reason: "too-large",
        message:
          `presence state of ${text.length} bytes is above the limit of ${this.#limits.maxPresenceBytes}`,
      });
      return;
    }
    const ttl = Math.min(m.ttl, this.#limits.maxPresenceTtlMs);
    const message: PresenceMessage = {
      type: "presence",
      topic: m.topic,
      state: m.state ?? null,
      ttl,
      peer: from.id,
    };
    if (m.key !== undefined) message.key = m.key;
    let table = this.#presence.get(m.topic);
    if (!table) this.#presence.set(m.topic, table = new Map());
    const id = `${from.id} ${m.key ?? ""}`;
    if (ttl === 0 || message.state === null) table.delete(id);
    else table.set(id, { message, expiresAt: Date.now() + ttl, from });
    this.#forward(m.topic, message, from);
    const { type: _type, ...event } = message;
    this.#options.onPresence?.({ ...event, expiresAt: Date.now() + ttl }, from);
  }

  #forward(
    topic: string,
    message: ControlMessage,
    from: SyncConnection | undefined,
  ): void {
    for (const c of this.#interests.get(topic) ?? []) {
      if (c !== from) c.send(message);
    }
  }

  #remove(c: SyncConnection): void {
    this.#connections.delete(c);
    for (const topic of this.#topicsOf.get(c) ?? []) {
      this.#interests.get(topic)?.delete(c);
      if (this.#interests.get(topic)?.size === 0) this.#interests.delete(topic);
    }
    this.#topicsOf.delete(c);
    // Tell the others that what this connection published is gone.
    for (const [topic, table] of this.#presence) {
      for (const [id, entry] of table) {
        if (entry.from !== c) continue;
        table.delete(id);
        if (entry.expiresAt <= Date.now()) continue;
        const gone: PresenceMessage = {
          ...entry.message,
          state: null,
          ttl: 0,
        };
        this.#forward(topic, gone, c);
      }
      if (table.size === 0) this.#presence.delete(topic);
    }
  }
}

/** A {@linkcode Relay} over `registry`. */
export function createRelay(
  registry: RepoRegistry,
  options: RelayOptions = {},
): Relay {
  return new Relay(registry, options);
}
