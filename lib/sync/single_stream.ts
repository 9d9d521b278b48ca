/**
 * Single-stream mode (SPEC §5): after the client's first message — the hex
 * key of one repo — both sides send raw chunk frames of that repo (no key
 * prefix, no control messages), like the reference's origin/outlet sync.
 *
 * @module
 */

import { effect, untracked } from "@preact/signals-core";
import { FrameParser } from "../codec/frames.ts";
import { ForkError, SignatureError } from "../errors.ts";
import { checkRepoKey } from "../registry/key.ts";
import { Ingest } from "../store/ingest.ts";
import type { Repo } from "../store/repo.ts";
import { frameRange } from "./frame_range.ts";
import {
  type ResolvedLimits,
  resolveLimits,
  type SyncLimits,
} from "./limits.ts";
import { DEFAULT_BATCH_BYTES } from "./peer.ts";
import {
  bindTransport,
  CloseCode,
  messageData,
  OPEN,
  type Transport,
} from "./transport.ts";

const NO_PREFIX = new Uint8Array(0);

/** Options for {@linkcode StreamPeer}. */
export interface StreamPeerOptions {
  /** The repo to sync; its `key` must be set. */
  repo: Repo;
  /** The transport, open or (for a client) connecting. */
  transport: Transport;
  /** `"client"` sends the key handshake when the transport opens. */
  role: "client" | "server";
  /** Limits on the peer's input. */
  limits?: SyncLimits;
  /** Bytes per outgoing message (default 256 KiB). */
  batchBytes?: number;
  /** Called once the transport closed. */
  onClose?: (code: number, reason: string) => void;
}

/**
 * One single-stream connection: streams the repo's verified bytes from 0
 * (then live) and ingests the peer's frames. Input that fails verification
 * closes the connection with code 1008 and the reason (single-stream mode
 * has no control messages to say it otherwise).
 */
export class StreamPeer {
  readonly #repo: Repo;
  readonly #transport: Transport;
  readonly #limits: ResolvedLimits;
  readonly #batch: number;
  readonly #ingest: Ingest;
  readonly #parser: FrameParser;
  readonly #options: StreamPeerOptions;
  #next = 0;
  #stop: (() => void) | undefined;
  #queued = false;
  #started = false;
  #closed = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  /** Bytes sent. */
  bytesSent = 0;
  /** Bytes received. */
  bytesReceived = 0;

  /** Starts syncing `options.repo` over `options.transport`. */
  constructor(options: StreamPeerOptions) {
    this.#options = options;
    this.#repo = options.repo;
    const key = checkRepoKey(options.repo.key, "sync a single stream");
    this.#transport = options.transport;
    this.#limits = resolveLimits(options.limits);
    this.#batch = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.#ingest = new Ingest(this.#repo, {
      maxPendingBytes: this.#limits.maxPendingBytes,
    });
    this.#parser = new FrameParser(this.#limits.maxFrameBytes);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    bindTransport(this.#transport, options.role, {
      open: () => {
        if (options.role === "client") this.#send(key);
        this.#start();
      },
      message: (data) => this.#receive(data),
      close: (code, reason) => this.#closedBy(code, reason),
    });
  }

  /** Resolves once the transport has closed. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Closes the transport; resolves once closed. */
  close(code: number = CloseCode.normal, reason = ""): Promise<void> {
    if (!this.#closed) this.#transport.close(code, reason);
    return this.#done;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const repo = this.#repo;
    this.#stop = effect(() => {
      void repo.signedLength;
      untracked(() => this.#schedule());
    });
  }

  #schedule(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#flush();
    });
  }

  #flush(): void {
    const repo = this.#repo;
    while (!this.#closed && this.#next < repo.signedLength) {
      const framed = frameRange(
        repo,
        NO_PREFIX,
        this.#next,
        repo.signedLength,
        this.#batch,
      );
      this.#send(framed.bytes);
      this.#next = framed.end;
    }
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    let bytes: Uint8Array;
    try {
      const message = messageData(data);
      if (typeof message === "string") {
        throw new SyntaxError("single-stream mode carries only binary frames");
      }
      bytes = message;
    } catch (error) {
      this.close(
        CloseCode.protocolError,
        (error as Error).message.slice(0, 120),
      );
      return;
    }
    this.bytesReceived += bytes.byteLength;
    try {
      this.#ingest.writeChunks(this.#parser.push(bytes));
    } catch (error) {
      const kind = error instanceof ForkError
        ? "fork"
        : error instanceof SignatureError
        ? "signature"
        : "malformed";
      const where = (error as { offset?: number }).offset ??
        this.#ingest.offset;
      this.close(CloseCode.policyViolation, `reject ${kind} at ${where}`);
    }
  }

  #send(data: string | Uint8Array<ArrayBuffer>): void {
    if (this.#closed || this.#transport.readyState !== OPEN) return;
    this.bytesSent += typeof data === "string" ? data.length : data.byteLength;
    this.#transport.send(data);
  }

  #closedBy(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop?.();
    this.#options.onClose?.(code, reason);
    this.#resolveDone();
  }
}

/** Options for {@linkcode repoSync}. */
export interface RepoSyncOptions {
  /** The relay's WebSocket URL. */
  url?: string | URL;
  /** Opens a transport (instead of `url`). */
  connect?: () => Transport;
  /** Limits on what the relay sends. */
  limits?: SyncLimits;
}

/**
 * Syncs one repo in single-stream mode (for peers that speak only that):
 * sends the repo's key, then both sides stream chunk frames. No reconnect.
 *
 * @example
 * ```ts ignore
 * import { Repo, repoSync } from "@streamo/streamo";
 * const repo = new Repo({ key });
 * const sync = repoSync(repo, { url: "ws://127.0.0.1:8000/" });
 * // …
 * await sync.close();
 * ```
 */
export function repoSync(repo: Repo, options: RepoSyncOptions): StreamPeer {
  const transport = options.connect
    ? options.connect()
    : new WebSocket(options.url!);
  return new StreamPeer({
    repo,
    transport,
    role: "client",
    limits: options.limits,
  });
}
