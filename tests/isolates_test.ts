// Deno Deploy's isolates, simulated: several Workers in this process, each
// the chat server on its own port, sharing ONE Deno KV file and one
// BroadcastChannel name. Clients on different isolates chat.

import assert from "node:assert/strict";
import { ChatApp } from "../lib/chat/app.ts";
import { bytesToHex } from "../lib/codec/hex.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { openKvStorage } from "../lib/storage/kv_storage.deno.ts";
import { Repo } from "../lib/store/repo.ts";
import { registrySync } from "../lib/sync/client.ts";
import type { FanoutStats } from "../lib/sync/broadcast.ts";
import type { IsolateStart } from "./support/isolate_worker.ts";
import { settled, waitFor } from "./support/sync_harness.ts";

const WAIT_MS = 20_000;
const ITERATIONS = 10;

interface Isolate {
  url: string;
  ws: string;
  close(): Promise<FanoutStats | undefined>;
}

function reply(
  worker: Worker,
  type: string,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const listener = (event: MessageEvent) => {
      const data = event.data as Record<string, unknown>;
      if (data.type !== type && data.type !== "error") return;
      worker.removeEventListener("message", listener);
      if (data.type === "error") {
        reject(new Error(`isolate failed: ${data.message}`));
      } else resolve(data);
    };
    worker.addEventListener("message", listener);
  });
}

async function startIsolate(kvPath: string, channel: string): Promise<Isolate> {
  const worker = new Worker(
    new URL("./support/isolate_worker.ts", import.meta.url),
    { type: "module" },
  );
  const start: IsolateStart = {
    type: "start",
    kvPath,
    channel,
    username: "room-owner",
    password: "room-password",
    keyIterations: ITERATIONS,
  };
  const started = reply(worker, "started");
  worker.postMessage(start);
  let url: string;
  try {
    url = (await started).url as string;
  } catch (error) {
    worker.terminate();
    throw error;
  }
  let closing: Promise<FanoutStats | undefined> | undefined;
  return {
    url,
    ws: url.replace("http", "ws"),
    close: () =>
      closing ??= (async () => {
        const closed = reply(worker, "closed");
        worker.postMessage({ type: "close" });
        try {
          return (await closed).stats as FanoutStats | undefined;
        } finally {
          worker.terminate();
        }
      })(),
  };
}

async function withKvFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "streamo-isolates-" });
  try {
    await fn(`${dir}/shared.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Client {
  app: ChatApp;
  registry: RepoRegistry;
}

async function client(isolate: Isolate): Promise<Client> {
  const info = await (await fetch(`${isolate.url}api/info`)).json();
  const registry = new RepoRegistry();
  const app = new ChatApp({
    config: {
      roomKey: info.primaryKeyHex,
      name: info.name,
      keyIterations: info.keyIterations,
      heartbeatMs: 200,
      presenceTimeoutMs: 1000,
    },
    registry,
    sync: registrySync,
    url: isolate.ws,
    syncOptions: { reconnect: { baseMs: 20, maxMs: 200 }, keepaliveMs: 0 },
  });
  await app.start();
  return { app, registry };
}

const texts = (app: ChatApp) =>
  app.history().map((l) => `${l.name}: ${l.text}`);

async function rawBytes(isolate: Isolate, key: string): Promise<string> {
  const response = await fetch(`${isolate.url}streams/${key}/raw`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return bytesToHex(bytes);
}

function framesOf(repo: Repo): string {
  const chunks = repo.chunksBetween(0);
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, chunk.length, true);
    out.push(header, chunk);
  }
  return out.map(bytesToHex).join("");
}

Deno.test("isolates sharing one KV file and a BroadcastChannel: clients on different isolates chat, and the KV holds everything once", async () => {
  await withKvFile(async (kvPath) => {
    const channel = `streamo-test-${crypto.randomUUID()}`;
    const isolates = await Promise.all(
      [0, 1, 2].map(() => startIsolate(kvPath, channel)),
    );
    const clients: Client[] = [];
    let fresh: Isolate | undefined;
    try {
      // Three isolates started together created the room once.
      const roomKey = (await (await fetch(`${isolates[0].url}api/info`))
        .json()).primaryKeyHex as string;
      for (const isolate of isolates) {
        const room = await rawBytes(isolate, roomKey);
        assert.equal(room, await rawBytes(isolates[0], roomKey));
      }
      // One client per isolate, all joining at once: three isolates add
      // members to the room concurrently.
      const names = ["alice", "bob", "carol"];
      clients.push(...await Promise.all(isolates.map((i) => client(i))));
      await Promise.all(
        clients.map((c, i) => c.app.signIn(names[i], `${names[i]}-pw`, false)),
      );
      for (const c of clients) assert.equal(c.app.error.value, undefined);
      const expected: string[] = [];
      for (let round = 0; round < 2; round++) {
        clients.forEach((c, i) => {
          const text = `message ${round} via isolate ${i}`;
          c.app.send(text);
          expected.push(`${names[i]}: ${text}`);
        });
      }
      await waitFor(
        () =>
          clients.every((c) => {
            const seen = texts(c.app);
            return expected.every((line) => seen.includes(line));
          }),
        "every client to see every message, whichever isolate it came through",
        WAIT_MS,
      );
      for (const c of clients) {
        const seen = texts(c.app);
        for (const line of expected) {
          assert.equal(seen.filter((l) => l === line).length, 1, line);
        }
      }
      // Every isolate holds the same bytes of every repo.
      const keys = clients.map((c) => c.app.me.value!.key);
      await waitFor(
        () => clients.every((c) => c.app.members().length === 3),
        "the room to list the three members",
        WAIT_MS,
      );
      for (const [i, key] of keys.entries()) {
        const own = framesOf(clients[i].registry.get(key)!);
        for (const isolate of isolates) {
          const raw = await settled(() => rawBytes(isolate, key), own, WAIT_MS);
          assert.equal(raw, own, `isolate ${isolate.url} holds ${names[i]}`);
        }
      }
      const room = await rawBytes(isolates[0], roomKey);
      for (const isolate of isolates.slice(1)) {
        assert.equal(await rawBytes(isolate, roomKey), room);
      }
      for (const c of clients) await c.app.close();
      clients.length = 0;
      const stats = await Promise.all(isolates.map((i) => i.close()));
      assert.ok(stats.every((s) => s && s.posted > 0 && s.applied > 0));
      assert.equal(stats.reduce((n, s) => n + s!.errors, 0), 0);

      // The shared KV holds each repo once, byte for byte.
      const storage = await openKvStorage(kvPath);
      try {
        const stored = await storage.keys();
        assert.deepEqual(stored, [...keys, roomKey].sort());
        const roomCopy = new Repo({ key: roomKey });
        roomCopy.appendRange(await storage.load(roomKey));
        assert.deepEqual(
          [...roomCopy.get("members") as string[]].sort(),
          [
            ...keys,
          ].sort(),
        );
        for (const key of keys) {
          const copy = new Repo({ key });
          copy.appendRange(await storage.load(key));
          assert.equal(copy.history().length, 3, "profile + two messages");
        }
      } finally {
        await storage.close();
      }

      // A fresh isolate loads it all from KV and serves it.
      fresh = await startIsolate(kvPath, channel);
      const dave = await client(fresh);
      clients.push(dave);
      await waitFor(
        () => expected.every((line) => texts(dave.app).includes(line)),
        "a client of a fresh isolate to see the whole history",
        WAIT_MS,
      );
    } finally {
      for (const c of clients) await c.app.close();
      await Promise.all(
        [...isolates, ...fresh ? [fresh] : []].map((i) => i.close()),
      );
    }
  });
});
