/**
 * Sync benchmarks over real WebSockets on 127.0.0.1 (writer, relay and
 * readers in this one process), printed as a table:
 *
 *     deno run -A bench/sync_bench.ts
 *
 * - W3: 1,000 signed chat commits from a writer through a relay to a fresh
 *   reader — (a) one signature per commit, (b) one per 100 commits.
 * - W4: one writer, 100 readers, 200 messages 20 ms apart: delivery latency.
 *
 * Under `deno bench` it registers W3 (b) only.
 *
 * @module
 */

import {
  bytesToHex,
  getBackend,
  registrySync,
  Repo,
  RepoRegistry,
  Signer,
  useFastestBackend,
} from "../lib/mod.ts";
import { createServer } from "../lib/server/mod.ts";

const COMMITS = 1000;
const W4_READERS = 100;
const W4_MESSAGES = 200;
const W4_INTERVAL_MS = 20;
const W4_WORKERS = 4;

let clock = Date.UTC(2025, 4, 7);

async function writerRepo(
  commits: number,
  perSignature: number,
): Promise<Repo> {
  const signer = new Signer("writer", "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const repo = new Repo({ key, now: () => clock++ });
  await repo.attachSigner(signer, "chat");
  repo.set({ name: "writer", messages: [] });
  await repo.whenSigned();
  for (let i = 0; i < commits; i += perSignature) {
    for (let j = i; j < Math.min(commits, i + perSignature); j++) {
      repo.push("messages", { text: `message number ${j}`, at: clock++ });
    }
    await repo.whenSigned();
  }
  return repo;
}

function relay() {
  const registry = new RepoRegistry();
  const server = createServer({
    registry,
    info: {
      primaryKeyHex: "02" + "00".repeat(32),
      name: "chat",
      keyIterations: 1,
    },
  });
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    server.fetch,
  );
  return {
    url: `ws://127.0.0.1:${http.addr.port}/`,
    registry,
    async close() {
      await server.close();
      await http.shutdown();
    },
  };
}

const now = () => performance.timeOrigin + performance.now();

/** A reader worker; resolves once its module loaded. */
async function readerWorker(): Promise<{
  worker: Worker;
  next: (type: string) => Promise<Record<string, unknown>>;
}> {
  const worker = new Worker(
    new URL("./sync_reader_worker.ts", import.meta.url),
    { type: "module" },
  );
  const inbox: Record<string, unknown>[] = [];
  const waiting: {
    type: string;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  worker.onmessage = (e) => {
    const m = e.data as Record<string, unknown>;
    const w = waiting.findIndex((x) => x.type === m.type);
    if (w >= 0) waiting.splice(w, 1)[0].resolve(m);
    else inbox.push(m);
  };
  const next = (type: string) => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
    return new Promise<Record<string, unknown>>((resolve) =>
      waiting.push({ type, resolve })
    );
  };
  await next("ready");
  return { worker, next };
}

/**
 * W3: ms from the writer connecting until a fresh reader (in a worker
 * thread, subscribed first) holds every byte.
 */
async function w3(
  repo: Repo,
  { worker, next }: Awaited<ReturnType<typeof readerWorker>>,
): Promise<number> {
  const server = relay();
  const writer = new RepoRegistry({ create: () => repo });
  await writer.open(repo.key!);
  worker.postMessage({
    type: "start",
    job: {
      url: server.url,
      key: repo.key,
      readers: 1,
      length: repo.byteLength,
    },
  });
  await next("synced");
  const t0 = now();
  const sw = registrySync(writer, { url: server.url, keepaliveMs: 0 });
  const done = await next("done");
  const ms = (done.at as number) - t0;
  worker.postMessage({ type: "stop" });
  await next("stopped");
  await sw.close();
  await server.close();
  return ms;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** W4: latency of each message to each reader (readers in worker threads). */
async function w4(workers: number): Promise<
  { p50: number; p99: number; max: number; lost: number }
> {
  const server = relay();
  const repo = await writerRepo(0, 1);
  const writer = new RepoRegistry({ create: () => repo });
  await writer.open(repo.key!);
  const sw = registrySync(writer, { url: server.url, keepaliveMs: 0 });
  const pool = await Promise.all(
    Array.from({ length: workers }, () => readerWorker()),
  );
  for (const { worker } of pool) {
    worker.postMessage({
      type: "start",
      job: { url: server.url, key: repo.key, readers: W4_READERS / workers },
    });
  }
  await Promise.all(pool.map((w) => w.next("synced")));
  const sent: { length: number; at: number }[] = [];
  for (let i = 0; i < W4_MESSAGES; i++) {
    const at = now();
    repo.push("messages", { text: `live ${i}`, at: clock++ });
    await repo.whenSigned();
    sent.push({ length: repo.signedLength, at });
    await new Promise((r) => setTimeout(r, W4_INTERVAL_MS));
  }
  await new Promise((r) => setTimeout(r, 500));
  const latencies: number[] = [];
  let lost = 0;
  for (const { worker, next } of pool) {
    worker.postMessage({ type: "report", sent });
    const report = await next("report");
    latencies.push(...(report.latencies as number[]));
    lost += report.lost as number;
    worker.postMessage({ type: "stop" });
    await next("stopped");
    worker.terminate();
  }
  latencies.sort((a, b) => a - b);
  await sw.close();
  await server.close();
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1],
    lost,
  };
}

async function main(): Promise<void> {
  const choice = await useFastestBackend();
  const backend = getBackend().name;
  const rows: string[][] = [];
  const each = await writerRepo(COMMITS, 1);
  const batched = await writerRepo(COMMITS, 100);
  // One reader thread, warmed up; each run syncs into a fresh registry.
  const reader = await readerWorker();
  const best = async (repo: Repo) => {
    let ms = Infinity;
    for (let i = 0; i < 5; i++) ms = Math.min(ms, await w3(repo, reader));
    return ms;
  };
  const a = await best(each);
  const b = await best(batched);
  reader.worker.terminate();
  const rate = (COMMITS / a) * 1000;
  rows.push([
    "W3a 1,000 commits, 1 signature each",
    `${rate.toFixed(0)} commits/s (${a.toFixed(0)} ms, ${
      (each.byteLength / 1024).toFixed(0)
    } KiB)`,
    "≥ 5,000 commits/s",
    rate >= 5000 ? "ok" : "MISS",
  ]);
  const mbs = batched.byteLength / 1e6 / (b / 1000);
  // Each chunk travels as a [u32 length][chunk] frame: the bytes on the wire.
  const wire = batched.byteLength + 4 * batched.chunkCount;
  rows.push([
    "W3b 1,000 commits, 1 signature per 100",
    `${mbs.toFixed(1)} MB/s of stream (${b.toFixed(0)} ms, ${
      (batched.byteLength / 1024).toFixed(0)
    } KiB; ${(wire / 1e6 / (b / 1000)).toFixed(1)} MB/s of frames, ${
      (wire / 1024).toFixed(0)
    } KiB; ${((COMMITS / b) * 1000).toFixed(0)} commits/s)`,
    "≥ 20 MB/s",
    mbs >= 20 ? "ok" : "MISS",
  ]);
  const lat = await w4(W4_WORKERS);
  rows.push([
    `W4 1 writer → ${W4_READERS} readers (${W4_WORKERS} threads), ${W4_MESSAGES} msgs / ${W4_INTERVAL_MS} ms`,
    `p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms, max ${
      lat.max.toFixed(1)
    } ms, lost ${lat.lost}`,
    "p99 < 20 ms, 0 lost",
    lat.p99 < 20 && lat.lost === 0 ? "ok" : "MISS",
  ]);
  const head = ["workload", "result", "target", ""];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (r: string[]) =>
    "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(
    `verify backend: ${backend}${
      choice.failures.length
        ? ` (not loaded: ${choice.failures.map((f) => f.name).join(", ")})`
        : ""
    }; writer, relay and readers in one process (readers in worker threads)`,
  );
  console.log(line(head));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of rows) console.log(line(row));
}

if (import.meta.main) {
  await main();
} else {
  await useFastestBackend();
  const batched = await writerRepo(COMMITS, 100);
  const reader = await readerWorker();
  Deno.bench({
    name: "W3b: 1,000 commits (1 signature per 100) writer → relay → reader",
    async fn() {
      await w3(batched, reader);
    },
  });
}
