/**
 * Test harness for sync over real WebSockets: relay servers on 127.0.0.1
 * (port 0 unless given), signed writer repos, and polling waits.
 *
 * @module
 */

import {
  bytesToHex,
  Repo,
  RepoRegistry,
  type RepoRegistryOptions,
  Signer,
} from "../../lib/mod.ts";
import {
  createServer,
  type ServerOptions,
  type StreamoServer,
} from "../../lib/server/mod.ts";

/** A running relay server. */
export interface TestServer {
  /** `ws://127.0.0.1:port/` */
  url: string;
  /** `http://127.0.0.1:port` */
  http: string;
  port: number;
  registry: RepoRegistry;
  server: StreamoServer;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a relay server on 127.0.0.1. */
export function startServer(
  options: Partial<ServerOptions> & { port?: number } = {},
  registryOptions: RepoRegistryOptions = {},
): TestServer {
  const registry = options.registry ?? new RepoRegistry(registryOptions);
  const server = createServer({
    info: {
      primaryKeyHex: "02" + "00".repeat(32),
      name: "chat",
      keyIterations: 1,
    },
    ...options,
    registry,
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen() {} },
    server.fetch,
  );
  const port = http.addr.port;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}/`,
    http: `http://127.0.0.1:${port}`,
    port,
    registry,
    server,
    close() {
      closing ??= (async () => {
        await server.close();
        await http.shutdown();
      })();
      return closing;
    },
  };
}

let clock = Date.UTC(2025, 4, 7);

/** A chat repo `{ name, messages: [] }` signed by `username`. */
export async function chatRepo(
  username: string,
): Promise<{ repo: Repo; key: string; signer: Signer }> {
  const signer = new Signer(username, "pw", 1);
  const { publicKey } = await signer.keysFor("chat");
  const key = bytesToHex(publicKey);
  const repo = new Repo({ key, now: () => clock++ });
  await repo.attachSigner(signer, "chat");
  repo.set({ name: username, messages: [] });
  await repo.whenSigned();
  return { repo, key, signer };
}

/** A registry whose repo for `repo.key` is `repo` (your own, signing). */
export function registryWith(...repos: Repo[]): RepoRegistry {
  const own = new Map(repos.map((r) => [r.key!, r]));
  return new RepoRegistry({
    create: (key) => own.get(key) ?? new Repo({ key }),
  });
}

/** Pushes `n` chat messages, one signature each. */
export async function say(repo: Repo, n: number, prefix = "m"): Promise<void> {
  for (let i = 0; i < n; i++) {
    repo.push("messages", { text: `${prefix} ${i}`, at: clock++ });
    await repo.whenSigned();
  }
}

/** Polls `predicate` every 5 ms until it holds; fails after `ms`. */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  ms = 5000,
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Closes each of `items` in turn (sessions, peers, then servers, say). */
export async function closeAll(
  ...items: { close(): Promise<unknown> }[]
): Promise<void> {
  for (const item of items) await item.close();
}

/**
 * Reads `read()` every 20 ms until it returns `want` or `ms` have passed;
 * returns what it read last.
 */
export async function settled<T>(
  read: () => Promise<T>,
  want: T,
  ms: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  let got: T;
  while ((got = await read()) !== want) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return got;
}

/** Whether `b` holds exactly the bytes of `a`. */
export function sameBytes(a: Repo | undefined, b: Repo | undefined): boolean {
  if (!a || !b || a.byteLength !== b.byteLength) return false;
  return bytesToHex(a.slice()) === bytesToHex(b.slice());
}

/** A plain WebSocket peer for speaking the protocol by hand. */
export interface RawPeer {
  ws: WebSocket;
  /** Text messages received, parsed. */
  texts: Record<string, unknown>[];
  /** Binary messages received. */
  binaries: Uint8Array[];
  /** Resolves with the first text message matching `predicate` (past or future). */
  text(
    predicate: (m: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
  opened: Promise<void>;
  closed: Promise<CloseEvent>;
  close(): Promise<CloseEvent>;
}

/** Opens a plain WebSocket to `url`. */
export function rawPeer(url: string): RawPeer {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const texts: Record<string, unknown>[] = [];
  const binaries: Uint8Array[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("raw peer failed to open"));
  });
  opened.catch(() => {});
  const closed = new Promise<CloseEvent>((resolve) => {
    ws.onclose = (e) => resolve(e);
  });
  ws.onmessage = (e) => {
    if (typeof e.data === "string") {
      try {
        texts.push(JSON.parse(e.data));
      } catch {
        texts.push({ raw: e.data });
      }
    } else binaries.push(new Uint8Array(e.data));
  };
  return {
    ws,
    texts,
    binaries,
    async text(predicate, what) {
      await waitFor(() => texts.some(predicate), what);
      return texts.find(predicate)!;
    },
    opened,
    closed,
    close() {
      if (ws.readyState < 2) ws.close();
      return closed;
    },
  };
}
