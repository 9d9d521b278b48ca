/**
 * Worker for `load.ts`: runs a slice of the load's clients in its own
 * thread. Each client is a library client — its own `RepoRegistry`, its own
 * signed chat repo, one `registrySync` session — that writes signed chat
 * messages at a rate and times every message it receives from the others
 * (writer's clock → this reader's receipt, both
 * `performance.timeOrigin + performance.now()`).
 *
 * Protocol with `load.ts`: `keys` → `{keys}`; `connect` → `ready`; `go` →
 * writes until `stop`; `report` → `{report}`; `close` → `closed`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { effect, untracked } from "@preact/signals-core";
import {
  bytesToHex,
  registrySync,
  Repo,
  RepoRegistry,
  Signer,
  type SyncSession,
  useFastestBackend,
} from "../lib/mod.ts";

/** What `load.ts` asks a worker. */
export type LoadCommand =
  | { type: "keys"; first: number; count: number }
  | {
    type: "connect";
    url: string;
    roomKey: string;
    keys: string[];
    fanout: number | "all";
    readers: "full" | "light";
    /** Shared `Int32Array` buffer of write times (see `SharedTimes`). */
    times: SharedArrayBuffer;
    perWriter: number;
  }
  | { type: "go"; startAt: number; rate: number }
  | { type: "stop" }
  | { type: "report" }
  | { type: "close" };

/** A worker's counts so far. */
export interface LoadReport {
  /** Messages written. */
  sent: number;
  /** Deliveries expected: each written message × its readers. */
  expected: number;
  /** Messages received from other clients. */
  received: number;
  /** Received messages seen twice, or out of order. */
  duplicates: number;
  /** Latencies (ms) of every delivery, writer's clock → receipt. */
  latencies: Float64Array;
  /** When each delivered message was written (s after the start). */
  writtenAt: Float32Array;
  /** Rejections and failures. */
  errors: string[];
  /** Reconnects (connections beyond each client's first). */
  reconnects: number;
}

interface Client {
  index: number;
  key: string;
  signer: Signer;
  repo: Repo;
  registry: RepoRegistry;
  session: SyncSession | undefined;
  follows: string[];
  readers: number;
  seq: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  ready: boolean;
  light: WebSocket | undefined;
  /** Light reader: copies that received their first range. */
  held: number;
}

const now = () => performance.timeOrigin + performance.now();
await useFastestBackend();

let clients: Client[] = [];
let latencies = new Float64Array(1 << 16);
let writtenAt = new Float32Array(1 << 16);
let count = 0;
let sent = 0;
let expected = 0;
let received = 0;
let duplicates = 0;
let measuring = false;
let startAt = 0;
const errors: string[] = [];

/** Records a delivery: its latency, and when (s after start) it was written. */
function record(latency: number, written: number): void {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
    const grownAt = new Float32Array(writtenAt.length * 2);
    grownAt.set(writtenAt);
    writtenAt = grownAt;
  }
  writtenAt[count] = (written - startAt) / 1000;
  latencies[count++] = latency;
}

/**
 * Times the new messages of a repo this client follows, when its signed
 * length grows (an effect, as `SyncPeer` watches repos: `onVerified` would
 * copy every range's chunks).
 */
function watch(repo: Repo, key: string): () => void {
  let seen = 0;
  return effect(() => {
    void repo.signedLength;
    const at = now();
    untracked(() => {
      const length = (repo.get("messages", "length") as number) ?? 0;
      for (let i = seen; i < length; i++) {
        const message = repo.get("messages", i) as { text: string; at: number };
        // A message in the wrong repo would be a relay bug: count it.
        if (!message.text.startsWith(key.slice(0, 8))) duplicates++;
        if (measuring && message.at >= startAt) {
          received++;
          record(at - message.at, message.at);
        }
      }
      if (length < seen) duplicates++;
      seen = Math.max(seen, length);
    });
  });
}

async function makeClient(index: number): Promise<Client> {
  const signer = new Signer(`load-${index}`, "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const repo = new Repo({ key });
  const registry = new RepoRegistry({
    create: (k) => (k === key ? repo : new Repo({ key: k })),
  });
  return {
    index,
    key,
    signer,
    repo,
    registry,
    session: undefined,
    follows: [],
    readers: 0,
    seq: 0,
    timer: undefined,
    ready: false,
    light: undefined,
    held: 0,
  };
}

/**
 * A light reader (`--readers light`): a plain WebSocket speaking the
 * reference subset (`subscribe`, then one data message per range) that only
 * scans the frames it receives — no signature verification, no decoding —
 * so that one machine can receive a whole room's fan-out and the
 * measurement is of the server. Each writer signs every message on its own,
 * so the n-th SIGNATURE chunk of a writer after its profile is its message
 * n, whose write time the writer put in shared memory (`times`). Not a
 * client to copy: real clients verify (`Ingest`).
 */
function lightReader(client: Client, url: string, shared: SharedTimes): void {
  const signatures = new Map<string, number>();
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  client.light = ws;
  let started = false;
  ws.onopen = () => ws.send("registry");
  ws.onmessage = (event) => {
    const at = now();
    if (typeof event.data === "string") {
      if (started) return;
      started = true;
      for (const key of client.follows) {
        signatures.set(key, 0);
        ws.send(JSON.stringify({ type: "subscribe", key }));
      }
      return;
    }
    const bytes = new Uint8Array(event.data);
    const key = bytesToHex(bytes.subarray(0, 33));
    let count = signatures.get(key);
    if (count === undefined) return;
    const writer = shared.index.get(key)!;
    for (let i = 33; i + 4 <= bytes.length;) {
      const length = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) |
        (bytes[i + 3] << 24);
      i += 4 + length;
      const footer = bytes[i - 1];
      if (footer < 158 || footer > 161) continue; // not a SIGNATURE chunk
      if (count++ === 0) client.held++; // the profile
      const seq = count - 2;
      if (!measuring || seq < 0 || seq >= shared.perWriter) continue;
      const written = Atomics.load(
        shared.times,
        writer * shared.perWriter + seq,
      );
      if (written === 0) {
        duplicates++; // a message arriving before it was written: a bug
        continue;
      }
      received++;
      record(at - (startAt + written / 1000), startAt + written / 1000);
    }
    signatures.set(key, count);
  };
  ws.onerror = () => {};
}

/** Write times in shared memory: µs after `startAt`, per writer and seq. */
interface SharedTimes {
  times: Int32Array;
  perWriter: number;
  index: Map<string, number>;
}

let shared: SharedTimes | undefined;

async function connect(
  command: Extract<LoadCommand, { type: "connect" }>,
): Promise<void> {
  const { keys, fanout, roomKey, url, readers } = command;
  shared = {
    times: new Int32Array(command.times),
    perWriter: command.perWriter,
    index: new Map(keys.map((key, i) => [key, i])),
  };
  const n = keys.length;
  for (const client of clients) {
    await client.registry.open(client.key);
    await client.repo.attachSigner(client.signer, "chat");
    client.repo.set({ name: `load ${client.index}`, messages: [] });
    await client.repo.whenSigned();
    const others = fanout === "all"
      ? keys.filter((k) => k !== client.key)
      : Array.from({ length: fanout }, (_, j) =>
        keys[(client.index + j + 1) % n]);
    client.follows = others;
    client.readers = others.length; // circular K-fanout, or N-1: symmetric
    const wanted = new Set(others);
    client.registry.onOpen((repo, key) => {
      if (wanted.has(key)) watch(repo, key);
    });
    if (readers === "light") {
      // The library session only uploads this client's repo.
      client.session = registrySync(client.registry, {
        url,
        keepaliveMs: 0,
        filter: () => false,
      });
      lightReader(client, url, shared);
      continue;
    }
    client.session = registrySync(client.registry, {
      url,
      keepaliveMs: 0,
      reconnect: { baseMs: 100, maxMs: 2000 },
      // A room member follows the room, and through it every member; with a
      // fan-out of K it subscribes to K others directly.
      filter: (key) => key === roomKey || wanted.has(key),
      follow: fanout === "all"
        ? (key, repo, subscribe) => {
          if (key !== roomKey) return;
          const members = repo.get("members");
          if (!Array.isArray(members)) return;
          for (const member of members) {
            if (wanted.has(member as string)) subscribe(member as string);
          }
        }
        : undefined,
      onReject: (event) => {
        if (errors.length < 100) {
          errors.push(
            `client ${client.index} ${event.direction} reject ${event.reason}: ${event.message}`,
          );
        }
      },
    });
    if (fanout === "all") {
      client.session.subscribe(roomKey);
      client.session.announce(client.key, roomKey);
    } else {
      for (const key of others) client.session.subscribe(key);
    }
  }
  // Ready once every client holds the profile of everyone it follows.
  const deadline = Date.now() + 120_000;
  const ready = (c: Client) =>
    readers === "light"
      ? c.held === c.follows.length
      : c.follows.every((k) => (c.registry.get(k)?.byteLength ?? 0) > 0);
  while (!clients.every(ready)) {
    if (Date.now() > deadline) {
      throw new Error("clients did not get everyone they follow in 120 s");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function go(rate: number): void {
  measuring = true;
  const interval = 1000 / rate;
  for (const client of clients) {
    // Spread the clients' phases over one interval.
    const phase = Math.random() * interval;
    const tick = () => {
      const at = now();
      if (shared && client.seq < shared.perWriter) {
        Atomics.store(
          shared.times,
          client.index * shared.perWriter + client.seq,
          Math.max(1, Math.round((at - startAt) * 1000)),
        );
      }
      client.repo.push("messages", {
        text: `${client.key.slice(0, 8)}:${client.seq++}`,
        at,
      });
      sent++;
      expected += client.readers;
      const next = startAt + phase + client.seq * interval;
      client.timer = setTimeout(tick, Math.max(0, next - now()));
    };
    client.timer = setTimeout(tick, Math.max(0, startAt + phase - now()));
  }
}

self.onmessage = async (event: MessageEvent) => {
  const command = event.data as LoadCommand;
  try {
    switch (command.type) {
      case "keys": {
        clients = await Promise.all(
          Array.from(
            { length: command.count },
            (_, i) => makeClient(command.first + i),
          ),
        );
        self.postMessage({ type: "keys", keys: clients.map((c) => c.key) });
        return;
      }
      case "connect":
        await connect(command);
        self.postMessage({ type: "ready" });
        return;
      case "go":
        startAt = command.startAt;
        go(command.rate);
        return;
      case "stop":
        for (const client of clients) clearTimeout(client.timer);
        self.postMessage({ type: "stopped" });
        return;
      case "report": {
        const report: LoadReport = {
          sent,
          expected,
          received,
          duplicates,
          latencies: latencies.slice(0, count),
          writtenAt: writtenAt.slice(0, count),
          errors: [...errors],
          reconnects: clients.reduce(
            (n, c) => n + Math.max(0, (c.session?.stats.connections ?? 1) - 1),
            0,
          ),
        };
        self.postMessage({ type: "report", report });
        return;
      }
      case "close":
        for (const c of clients) c.light?.close();
        await Promise.all(clients.map((c) => c.session?.close()));
        self.postMessage({ type: "closed" });
        return;
    }
  } catch (error) {
    self.postMessage({
      type: "error",
      message: error instanceof Error ? error.stack : String(error),
    });
  }
};
