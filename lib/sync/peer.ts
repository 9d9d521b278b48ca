/**
 * `SyncPeer`: one multi-repo connection (SPEC §5), the same engine on both
 * ends. It streams verified ranges of subscribed repos out (batched, with
 * backpressure) and feeds everything that comes in through an `Ingest`.
 *
 * @module
 */

import { effect, untracked } from "@preact/signals-core";
import { FrameParser } from "../codec/frames.ts";
import { hexToBytes } from "../codec/hex.ts";
import { ForkError, SignatureError } from "../errors.ts";
import type { RepoRegistry } from "../registry/registry.ts";
import { Ingest } from "../store/ingest.ts";
import { type RebaseResult, Repo } from "../store/repo.ts";
import { framedBytes, frameRange } from "./frame_range.ts";
import {
  type ResolvedLimits,
  resolveLimits,
  type SyncLimits,
} from "./limits.ts";
import {
  type ControlMessage,
  decodeData,
  encodeControl,
  helloMessage,
  parseControl,
  PROTOCOL,
  REGISTRY_HANDSHAKE,
  type RejectMessage,
  type RejectReason,
  type UnknownMessage,
} from "./messages.ts";
import {
  bindTransport,
  CloseCode,
  messageData,
  OPEN,
  type Transport,
} from "./transport.ts";

/** Default size of one outgoing data message (bytes). */
export const DEFAULT_BATCH_BYTES = 64 * 1024;
/** Default `bufferedAmount` above which outgoing streams pause. */
export const DEFAULT_HIGH_WATER = 1024 * 1024;
/** Default `bufferedAmount` below which paused streams resume. */
export const DEFAULT_LOW_WATER = 256 * 1024;
const POLL_MS = 5;
/** Default of {@linkcode SyncPeerOptions.closeTimeoutMs}. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** A rejection, sent by us (`"sent"`) or by the peer (`"received"`). */
export interface RejectEvent extends RejectMessage {
  /** `"sent"`: we dropped the peer's input; `"received"`: the peer dropped ours. */
  direction: "sent" | "received";
}

/** Options for {@linkcode SyncPeer}. */
export interface SyncPeerOptions {
  /** The repos this side holds. */
  registry: RepoRegistry;
  /** The open transport (a client's may still be connecting). */
  transport: Transport;
  /**
   * `"client"` sends the `registry` handshake and `hello` when the transport
   * opens; `"server"` starts after the client's handshake was read.
   */
  role: "client" | "server";
  /** Limits on the peer's input. */
  limits?: SyncLimits;
  /** Which keys of a received `catalog` to subscribe to (default all). */
  filter?: (key: string) => boolean;
  /** Which keys the peer may subscribe to (default all). */
  accept?: (key: string) => boolean;
  /** Bytes per outgoing data message (default 64 KiB). */
  batchBytes?: number;
  /** Pause outgoing streams while `bufferedAmount` is above this (default 1 MiB). */
  highWaterBytes?: number;
  /** Resume them once it is below this (default 256 KiB). */
  lowWaterBytes?: number;
  /** Called once the first message of the other side is read. */
  onReady?: (peer: SyncPeer) => void;
  /** Called with `interest`, `announce`, `presence` and unknown messages. */
  onControl?: (
    message: ControlMessage | UnknownMessage,
    peer: SyncPeer,
  ) => void;
  /** Called with each rejection, both directions. */
  onReject?: (event: RejectEvent, peer: SyncPeer) => void;
  /** Called when a subscription starts (both sides agreed on a repo). */
  onLink?: (key: string, repo: Repo, peer: SyncPeer) => void;
  /** Called when the peer's initial replay of `key` has arrived. */
  onSynced?: (key: string, offset: number, peer: SyncPeer) => void;
  /** Called once the transport closed. */
  onClose?: (code: number, reason: string, peer: SyncPeer) => void;
  /**
   * Longest wait, after `close()`, for the transport to report it closed,
   * ms (default 5,000): a peer that never answers the close frame is then
   * taken as gone, so `close()` always resolves.
   */
  closeTimeoutMs?: number;
  /**
   * Whether a repo this side signs (`repo.canSign`) rebases when the peer's
   * history of it forked from ours (default true): ours is set aside, theirs
   * adopted, and our changes re-committed on top (`Repo.rebaseOnto`).
   */
  rebase?: boolean;
  /** Called after such a rebase, or with the error that stopped it. */
  onRebase?: (
    key: string,
    result: RebaseResult | undefined,
    error: unknown,
    peer: SyncPeer,
  ) => void;
}

interface Link {
  key: string;
  prefix: Uint8Array;
  repo: Repo | undefined;
  weSubscribed: boolean;
  theySubscribed: boolean;
  // Outgoing: the repo's own verified bytes are the queue.
  outStarted: boolean;
  next: number;
  wireAt: number;
  peerHas: number;
  replayEnd: number;
  subscribedSent: boolean;
  stopVerified: (() => void) | undefined;
  // Incoming.
  ingest: Ingest | undefined;
  parser: FrameParser | undefined;
  inFrom: number;
  blocked: boolean;
  synced: boolean;
  // The peer's history of a repo we sign forked from ours: theirs is being
  // collected here, to rebase onto once complete.
  theirs: Repo | undefined;
}

let nextPeerId = 1;

/**
 * One multi-repo sync connection. Both ends run the same engine: a
 * subscription (asked by either side) makes each side stream its verified
 * bytes of the repo to the other and ingest the other's — every incoming
 * byte goes through an `Ingest`, and only verified ranges are sent on.
 *
 * With a peer that sent `hello` (ours), a subscription resumes: each side
 * states its verified length in `subscribe.from`, and each streams only
 * what the other lacks (announced with `seek`). With a reference peer it
 * streams from 0, as the reference does.
 */
export class SyncPeer {
  /** Process-unique id of this connection (relays stamp it on presence). */
  readonly id: string = `p${nextPeerId++}`;
  readonly #registry: RepoRegistry;
  readonly #transport: Transport;
  readonly #role: "client" | "server";
  readonly #limits: ResolvedLimits;
  readonly #options: SyncPeerOptions;
  readonly #batch: number;
  readonly #high: number;
  readonly #low: number;
  readonly #links = new Map<string, Link>();
  readonly #inbox: unknown[] = [];
  #inboxHead = 0;
  #busy = false;
  #started = false;
  #ours: boolean | undefined;
  #closed = false;
  #closing = false;
  #dirty = new Set<Link>();
  #flushQueued = false;
  #paused = false;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #stopOpen: (() => void) | undefined;
  #rejectTimes: number[] = [];
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  /** Bytes sent on the transport (text and binary). */
  bytesSent = 0;
  /** Bytes received on the transport (text and binary). */
  bytesReceived = 0;

  /** Starts the protocol on `options.transport`. */
  constructor(options: SyncPeerOptions) {
    this.#options = options;
    this.#registry = options.registry;
    this.#transport = options.transport;
    this.#role = options.role;
    this.#limits = resolveLimits(options.limits);
    this.#batch = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.#high = options.highWaterBytes ?? DEFAULT_HIGH_WATER;
    this.#low = options.lowWaterBytes ?? DEFAULT_LOW_WATER;
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    bindTransport(this.#transport, this.#role, {
      open: () => this.#start(),
      message: (data) => this.#receive(data),
      close: (code, reason) => this.#onClosed(code, reason),
    });
  }

  /** Whether the other side sent `hello` (speaks our additions); `undefined` until its first message. */
  get ours(): boolean | undefined {
    return this.#ours;
  }

  /** Whether the transport has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the transport has closed. */
  get done(): Promise<void> {
    return this.#closedPromise;
  }

  /** Keys this connection syncs. */
  keys(): string[] {
    return [...this.#links.keys()].filter((k) => this.#links.get(k)!.repo);
  }

  /**
   * Subscribes to `key`: opens it in the registry, asks the peer for it and
   * streams it to the peer. Does nothing before the peer's first message
   * (see `onReady`) or after close.
   */
  subscribe(key: string): Promise<void> {
    if (this.#closed || this.#ours === undefined) return Promise.resolve();
    return this.#subscribe(key);
  }

  /** Sends a control message (no-op once closed). */
  send(message: ControlMessage): void {
    this.#sendText(encodeControl(message));
  }

  /** Closes the transport; resolves once it is closed. */
  close(code: number = CloseCode.normal, reason = ""): Promise<void> {
    if (!this.#closed && !this.#closing) {
      this.#closing = true;
      try {
        this.#transport.close(code, reason);
        if (!this.#closed) {
          this.#closeTimer = setTimeout(
            () => this.#onClosed(code, reason),
            this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
          );
        }
      } catch {
        this.#onClosed(code, reason);
      }
    }
    return this.#closedPromise;
  }

  // ---- start and handshake ----

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    if (this.#role === "client") {
      this.#sendText(REGISTRY_HANDSHAKE);
      this.send(helloMessage());
    } else {
      this.send(helloMessage());
      this.#sendCatalog([...this.#registry.keys()]);
    }
    this.#stopOpen = this.#registry.onOpen((_repo, key) => {
      if (this.#role === "server" || this.#ours !== undefined) {
        this.#sendCatalog([key]);
      }
    });
  }

  #ready(ours: boolean): void {
    this.#ours = ours;
    if (this.#role === "client") this.#sendCatalog([...this.#registry.keys()]);
    this.#options.onReady?.(this);
  }

  #sendCatalog(keys: string[]): void {
    this.send({ type: "catalog", keys });
  }

  // ---- input ----

  #receive(data: unknown): void {
    if (this.#closed) return;
    this.#inbox.push(data);
    if (!this.#busy) this.#drain();
  }

  #drain(): void {
    this.#busy = true;
    while (
      this.#inboxHead < this.#inbox.length && !this.#closed && !this.#closing
    ) {
      const data = this.#inbox[this.#inboxHead];
      this.#inbox[this.#inboxHead++] = undefined;
      let result: void | Promise<void>;
      try {
        result = this.#handle(data);
      } catch (error) {
        this.#protocolError(error);
        continue;
      }
      if (result instanceof Promise) {
        result.catch((error) => this.#protocolError(error))
          .finally(() => this.#drain());
        return;
      }
    }
    this.#inbox.length = 0;
    this.#inboxHead = 0;
    this.#busy = false;
  }

  #protocolError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#reject({ reason: "malformed", message });
  }

  #handle(data: unknown): void | Promise<void> {
    const message = messageData(data);
    this.bytesReceived += typeof message === "string"
      ? message.length
      : message.byteLength;
    if (typeof message !== "string") {
      if (message.byteLength > this.#limits.maxMessageBytes) {
        this.close(
          CloseCode.tooBig,
          `message of ${message.byteLength} bytes is above the limit of ${this.#limits.maxMessageBytes}`,
        );
        return;
      }
      if (this.#ours === undefined) {
        throw new SyntaxError("binary data arrived before the handshake");
      }
      return this.#data(message);
    }
    if (this.#ours === undefined) {
      // The other side's first control message: a `hello` marks our peer.
      const first = parseControl(message);
      this.#ready(first.type === "hello");
      return this.#control(first);
    }
    return this.#control(parseControl(message));
  }

  #control(m: ControlMessage | UnknownMessage): void | Promise<void> {
    if ("unknown" in m) {
      this.#options.onControl?.(m, this);
      return;
    }
    switch (m.type) {
      case "hello":
        if (m.protocol !== PROTOCOL) {
          throw new SyntaxError(
            `unknown protocol ${JSON.stringify(m.protocol)}`,
          );
        }
        return;
      case "catalog": {
        const filter = this.#options.filter;
        const wanted = m.keys.filter((k) => !filter || filter(k));
        if (wanted.length === 0) return;
        return Promise.all(wanted.map((k) => this.#subscribe(k))).then(
          () => {},
        );
      }
      case "subscribe":
        return this.#theySubscribe(m.key, m.from, m.checkpoints);
      case "subscribed": {
        const link = this.#links.get(m.key);
        if (!link) return;
        this.#checkSettled(link);
        if (!link.synced) {
          link.synced = true;
          this.#options.onSynced?.(m.key, m.offset, this);
        }
        return this.#maybeRebase(link);
      }
      case "seek": {
        const link = this.#links.get(m.key);
        if (!link || !link.repo) return;
        this.#checkSettled(link);
        link.theirs = undefined;
        link.ingest = undefined;
        link.parser = undefined;
        link.blocked = false;
        link.inFrom = m.offset;
        return;
      }
      case "reject": {
        const event: RejectEvent = { ...m, direction: "received" };
        const link = m.key === undefined ? undefined : this.#links.get(m.key);
        if (link) this.#stopOutgoing(link);
        this.#options.onReject?.(event, this);
        return;
      }
      case "ping":
        this.send({
          type: "pong",
          ...(m.id === undefined ? {} : { id: m.id }),
        });
        return;
      default:
        this.#options.onControl?.(m, this);
    }
  }

  /** Rejects bytes left without a signature where the peer said a range ended. */
  #checkSettled(link: Link): void {
    const ingest = link.ingest;
    if (!ingest || ingest.pendingBytes === 0) return;
    const offset = ingest.offset - ingest.pendingBytes;
    this.#rejectLink(
      link,
      "unsigned",
      offset,
      `${ingest.pendingBytes} bytes from ${offset} arrived without a signature`,
    );
  }

  #link(key: string): Link | undefined {
    let link = this.#links.get(key);
    if (link) return link;
    if (this.#links.size >= this.#limits.maxReposPerConnection) {
      return undefined;
    }
    link = {
      key,
      prefix: hexToBytes(key),
      repo: undefined,
      weSubscribed: false,
      theySubscribed: false,
      outStarted: false,
      next: 0,
      wireAt: 0,
      peerHas: 0,
      replayEnd: 0,
      subscribedSent: false,
      stopVerified: undefined,
      ingest: undefined,
      parser: undefined,
      inFrom: 0,
      blocked: false,
      synced: false,
      theirs: undefined,
    };
    this.#links.set(key, link);
    return link;
  }

  async #openLink(link: Link): Promise<Repo | undefined> {
    if (link.repo) return link.repo;
    let repo = this.#registry.get(link.key);
    if (!repo) {
      try {
        repo = await this.#registry.open(link.key);
      } catch (error) {
        this.#reject({
          key: link.key,
          reason: "unavailable",
          message: `cannot open the repo: ${(error as Error).message}`,
        });
        this.#links.delete(link.key);
        return undefined;
      }
    }
    if (this.#closed) return undefined;
    if (!link.repo) {
      link.repo = repo;
      this.#options.onLink?.(link.key, repo, this);
    }
    return repo;
  }

  async #subscribe(key: string): Promise<void> {
    const link = this.#link(key);
    if (!link || link.weSubscribed) return;
    link.weSubscribed = true;
    const repo = await this.#openLink(link);
    if (!repo) return;
    if (this.#ours) {
      this.send({
        type: "subscribe",
        key,
        from: repo.signedLength,
        checkpoints: repo.checkpoints(),
      });
    } else {
      this.send({ type: "subscribe", key });
      this.#startOutgoing(link, 0);
    }
  }

  async #theySubscribe(
    key: string,
    from: number | undefined,
    checkpoints: [number, string][] | undefined,
  ): Promise<void> {
    const accept = this.#options.accept;
    if (accept && !accept(key)) {
      this.#reject({
        key,
        reason: "filtered",
        message: "this side does not carry the repo",
      });
      return;
    }
    const link = this.#link(key);
    if (!link) {
      this.#reject({
        key,
        reason: "limit",
        message:
          `at most ${this.#limits.maxReposPerConnection} repos per connection`,
      });
      return;
    }
    link.theySubscribed = true;
    const repo = await this.#openLink(link);
    if (!repo) return;
    if (this.#ours && from !== undefined && !link.weSubscribed) {
      link.weSubscribed = true;
      this.send({
        type: "subscribe",
        key,
        from: repo.signedLength,
        checkpoints: repo.checkpoints(),
      });
    }
    this.#startOutgoing(
      link,
      this.#ours ? resumePoint(repo, from, checkpoints) : 0,
    );
  }

  // ---- data in ----

  #data(message: Uint8Array): void | Promise<void> {
    const { key, frames } = decodeData(message);
    const link = this.#links.get(key);
    if (!link || !link.repo || !(link.weSubscribed || link.theySubscribed)) {
      this.#reject({
        key,
        reason: "unsubscribed",
        message: "data arrived for a repo this connection does not sync",
      });
      return;
    }
    if (link.blocked) return;
    const repo = link.repo;
    const ingest = link.ingest ??= new Ingest(repo, {
      from: link.inFrom,
      maxPendingBytes: this.#limits.maxPendingBytes,
      maxFrameLength: this.#limits.maxFrameBytes,
    });
    // Fast path: whole frames within limits go straight to the ingest (no
    // per-chunk copies); anything else is checked chunk by chunk.
    if (!link.parser && this.#fitsLimits(ingest, frames)) {
      this.#ingest(link, ingest, frames, ingest.offset);
      return this.#maybeRebase(link);
    }
    const parser = link.parser ??= new FrameParser(this.#limits.maxFrameBytes);
    let chunks: Uint8Array[];
    try {
      chunks = parser.push(frames);
    } catch (error) {
      const reason = error instanceof RangeError ? "too-large" : "malformed";
      this.#rejectLink(link, reason, ingest.offset, (error as Error).message);
      return;
    }
    const max = this.#limits.maxPendingBytes;
    for (const chunk of chunks) {
      if (
        ingest.offset >= repo.byteLength &&
        ingest.pendingBytes + chunk.length > max
      ) {
        const offset = ingest.offset - ingest.pendingBytes;
        this.#rejectLink(
          link,
          "pending",
          offset,
          `more than ${max} bytes from ${offset} arrived without a signature`,
        );
        return;
      }
      if (!this.#ingest(link, link.ingest!, [chunk], link.ingest!.offset)) {
        return;
      }
    }
    return this.#maybeRebase(link);
  }

  /**
   * Whether `frames` is whole frames, none above the frame limit, whose
   * chunks cannot push the pending bytes over their limit.
   */
  #fitsLimits(ingest: Ingest, frames: Uint8Array): boolean {
    const bytes = framedBytes(frames, this.#limits.maxFrameBytes);
    return bytes >= 0 &&
      ingest.pendingBytes + bytes <= this.#limits.maxPendingBytes;
  }

  #ingest(
    link: Link,
    ingest: Ingest,
    input: Uint8Array | Uint8Array[],
    from: number,
  ): boolean {
    try {
      if (input instanceof Uint8Array) ingest.write(input);
      else ingest.writeChunks(input);
    } catch (error) {
      if (
        error instanceof ForkError && !link.theirs && link.repo?.canSign &&
        this.#options.rebase !== false && link.repo.isChunkBoundary(from)
      ) {
        // A repo we sign: collect the peer's history aside, to rebase onto.
        const theirs = new Repo({ key: link.key });
        theirs.appendRange(link.repo.chunksBetween(0, from));
        link.theirs = theirs;
        link.ingest = new Ingest(theirs, {
          from,
          maxPendingBytes: this.#limits.maxPendingBytes,
          maxFrameLength: this.#limits.maxFrameBytes,
        });
        return this.#ingest(link, link.ingest, input, from);
      }
      let reason: RejectReason = "malformed";
      let offset: number | undefined;
      if (error instanceof ForkError) {
        reason = "fork";
        offset = error.offset;
      } else if (error instanceof SignatureError) {
        reason = "signature";
        offset = error.offset;
      }
      this.#rejectLink(
        link,
        reason,
        offset ?? ingest.offset,
        (error as Error).message,
      );
      return false;
    }
    if (this.#ours) {
      const has = ingest.offset - ingest.pendingBytes;
      if (has > link.peerHas) link.peerHas = has;
    }
    return true;
  }

  /** Rebases onto the peer's history once all of it that was sent is in. */
  #maybeRebase(link: Link): void | Promise<void> {
    const theirs = link.theirs;
    if (!theirs || !link.synced || !link.ingest || link.ingest.pendingBytes) {
      return;
    }
    return this.#rebase(link, theirs);
  }

  async #rebase(link: Link, theirs: Repo): Promise<void> {
    const repo = link.repo!;
    const theirEnd = theirs.byteLength;
    link.theirs = undefined;
    link.ingest = undefined;
    link.parser = undefined;
    this.#stopOutgoing(link);
    let result: RebaseResult | undefined;
    try {
      result = await repo.rebaseOnto(theirs);
    } catch (error) {
      this.#options.onRebase?.(link.key, undefined, error, this);
      return;
    }
    if (this.#closed) return;
    // Their next bytes continue their stream; ours now extends it.
    link.inFrom = theirEnd;
    link.blocked = false;
    link.outStarted = false;
    link.peerHas = theirEnd;
    link.wireAt = -1;
    this.#startOutgoing(link, theirEnd);
    this.#options.onRebase?.(link.key, result, undefined, this);
  }

  #rejectLink(
    link: Link,
    reason: RejectReason,
    offset: number,
    message: string,
  ): void {
    link.theirs = undefined;
    link.blocked = true;
    link.ingest = undefined;
    link.parser = undefined;
    this.#reject({ key: link.key, reason, offset, message });
  }

  #reject(reject: Omit<RejectMessage, "type">): void {
    if (this.#closed) return;
    const message: RejectMessage = { type: "reject", ...reject };
    this.send(message);
    this.#options.onReject?.({ ...message, direction: "sent" }, this);
    const now = Date.now();
    const times = this.#rejectTimes.filter((t) => now - t < 60_000);
    times.push(now);
    this.#rejectTimes = times;
    if (times.length > this.#limits.maxRejectsPerMinute) {
      this.close(
        CloseCode.policyViolation,
        `too many rejected inputs (${times.length} in a minute)`,
      );
    }
  }

  // ---- data out ----

  #startOutgoing(link: Link, peerFrom: number): void {
    const repo = link.repo;
    if (!repo || link.outStarted || this.#closed) return;
    const length = repo.signedLength;
    if (peerFrom <= length && !repo.isChunkBoundary(peerFrom)) {
      this.#reject({
        key: link.key,
        reason: "fork",
        offset: peerFrom,
        message:
          `your copy ends at ${peerFrom}, inside a chunk of ours: the histories differ`,
      });
      return;
    }
    link.outStarted = true;
    link.next = Math.min(peerFrom, length);
    link.peerHas = Math.max(link.peerHas, peerFrom);
    link.replayEnd = length;
    // Watch the length rather than `onVerified`: the flush reads the repo's
    // bytes directly, and batches whatever arrived since the last one.
    link.stopVerified = effect(() => {
      void repo.signedLength;
      untracked(() => this.#markDirty(link));
    });
    this.#markDirty(link);
  }

  #stopOutgoing(link: Link): void {
    link.stopVerified?.();
    link.stopVerified = undefined;
    this.#dirty.delete(link);
  }

  #markDirty(link: Link): void {
    this.#dirty.add(link);
    if (this.#flushQueued || this.#paused) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closed) return;
    for (const link of this.#dirty) {
      if (!this.#flushLink(link)) {
        this.#pause();
        return;
      }
      this.#dirty.delete(link);
    }
  }

  /** Sends what `link` has to send; false when paused by backpressure. */
  #flushLink(link: Link): boolean {
    const repo = link.repo!;
    for (;;) {
      if (this.#transport.bufferedAmount > this.#high) return false;
      const start = this.#ours ? Math.max(link.next, link.peerHas) : link.next;
      const end = repo.signedLength;
      if (start >= end) break;
      if (!repo.isChunkBoundary(start)) {
        this.#stopOutgoing(link);
        this.#reject({
          key: link.key,
          reason: "fork",
          offset: start,
          message:
            `your copy has ${start} bytes, which ends inside a chunk of ours: the histories differ`,
        });
        return true;
      }
      if (start !== link.wireAt) {
        this.send({ type: "seek", key: link.key, offset: start });
      }
      const framed = frameRange(repo, link.prefix, start, end, this.#batch);
      this.#sendBytes(framed.bytes);
      link.next = link.wireAt = framed.end;
      if (this.#closed) return true;
    }
    if (
      !link.subscribedSent &&
      Math.max(link.next, link.peerHas) >= link.replayEnd
    ) {
      link.subscribedSent = true;
      this.send({ type: "subscribed", key: link.key, offset: link.replayEnd });
    }
    return true;
  }

  #pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    const poll = () => {
      this.#pollTimer = undefined;
      if (this.#closed) return;
      if (this.#transport.bufferedAmount > this.#low) {
        this.#pollTimer = setTimeout(poll, POLL_MS);
        return;
      }
      this.#paused = false;
      this.#flush();
    };
    this.#pollTimer = setTimeout(poll, POLL_MS);
  }

  #sendText(text: string): void {
    if (this.#closed || this.#transport.readyState !== OPEN) return;
    this.bytesSent += text.length;
    this.#transport.send(text);
  }

  #sendBytes(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#closed || this.#transport.readyState !== OPEN) return;
    this.bytesSent += bytes.byteLength;
    this.#transport.send(bytes);
  }

  // ---- close ----

  #onClosed(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#closeTimer);
    this.#stopOpen?.();
    for (const link of this.#links.values()) {
      this.#stopOutgoing(link);
      link.ingest = undefined;
    }
    this.#dirty.clear();
    this.#inbox.length = 0;
    this.#options.onClose?.(code ?? CloseCode.normal, reason ?? "", this);
    this.#resolveClosed();
  }
}

/**
 * Where to stream `repo` to a peer whose subscribe said it holds `from`
 * verified bytes with these `checkpoints`: from `from` when the peer's
 * history provably contains ours up to there, else from the last point both
 * provably share — so the peer's ingest finds where the histories forked.
 */
function resumePoint(
  repo: Repo,
  from: number | undefined,
  checkpoints: [number, string][] | undefined,
): number {
  if (from === undefined) return 0;
  if (!checkpoints) return from;
  const length = repo.signedLength;
  const claimed = checkpoints.find(([end]) => end === from)?.[1];
  if (from <= length) {
    if (from === 0 || repo.fingerprintAt(from) === claimed) return from;
  } else if (length === 0 || repo.agreement(checkpoints) === length) {
    return length;
  }
  return repo.agreement(checkpoints);
}
