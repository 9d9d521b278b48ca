/**
 * Load test of one server (a script, not a test):
 *
 *     deno run -A bench/load.ts --clients 200 --rate 1 --duration 60 --fanout all
 *
 * Starts the server as its own process (`deno run -A main.ts` on a fresh
 * temporary data directory, 1 PBKDF2 iteration), or uses `--url` (then
 * `--pid` for its memory), and runs `--clients` library clients spread over
 * `--workers` threads (`load_worker.ts`): each has its own signed chat repo
 * and `registrySync` session, writes `--rate` signed messages per second for
 * `--duration` seconds, and receives the messages of the clients it
 * follows:
 *
 * - `--fanout all` (default): a chat room — every client announces itself
 *   in the room, follows the room's `members` and receives everyone
 *   (N × (N − 1) deliveries per round);
 * - `--fanout K`: each client follows the K clients after it (circularly),
 *   so every message has exactly K readers.
 *
 * `--readers full` (default) receives through each client's own session,
 * verifying every signature as real clients do — 80 µs each, so one
 * machine cannot play 200 readers of a 200 msgs/s room (40,000 verifications
 * a second). `--readers light` receives on one extra plain WebSocket per
 * client that only scans frames (no verification, no decoding; write times
 * come from shared memory): the measurement is then of the server.
 *
 * Prints a Markdown table: written msgs/s, deliveries/s, delivery latency
 * p50/p99/max (writer's clock → reader's receipt, one machine), lost and
 * duplicated deliveries, errors, reconnects, the server's RSS (VmRSS) and
 * CPU, and the load generator's CPU. Lost = deliveries expected but not
 * received within `--drain` seconds after the writers stop.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LoadCommand, LoadReport } from "./load_worker.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "200" },
    rate: { type: "string", default: "1" },
    duration: { type: "string", default: "60" },
    fanout: { type: "string", default: "all" },
    workers: { type: "string", default: "2" },
    drain: { type: "string", default: "15" },
    readers: { type: "string", default: "full" },
    url: { type: "string" },
    pid: { type: "string" },
  },
  strict: true,
});

const clients = Number(values.clients);
const rate = Number(values.rate);
const duration = Number(values.duration);
const fanout = values.fanout === "all" ? "all" : Number(values.fanout);
const workerCount = Math.max(1, Math.min(Number(values.workers), clients));
const drainMs = Number(values.drain) * 1000;
const readers = values.readers === "light" ? "light" : "full";
if (
  !(clients > 1) || !(rate > 0) || !(duration > 0) ||
  (fanout !== "all" && !(fanout >= 1 && fanout < clients))
) {
  console.error(
    "Usage: deno run -A bench/load.ts --clients N --rate R --duration S --fanout all|K [--readers full|light] [--workers W] [--drain S] [--url ws://… --pid PID]",
  );
  Deno.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const ticksPerSecond = 100; // USER_HZ on Linux

/** Resident memory of `pid` in MiB (VmRSS), or NaN. */
function rssMiB(pid: number | string): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(status.match(/VmRSS:\s+(\d+)\s+kB/)?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/** CPU seconds `pid` used so far (user + system), or NaN. */
function cpuSeconds(pid: number | string): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

// ---- the server ----

let server: Deno.ChildProcess | undefined;
let dataDir: string | undefined;
let url = values.url;
let pid: number | string | undefined = values.pid;
if (!url) {
  dataDir = await Deno.makeTempDir({ prefix: "streamo-load-" });
  server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--key-iterations",
      "1",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  pid = server.pid;
  const reader = server.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server exited before listening");
    text += value;
    const match = text.match(/at (http:\/\/[^\s]+)/);
    if (match) url = match[1].replace("http", "ws");
  }
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
}
const http = url.replace("ws", "http");
const info = await (await fetch(new URL("api/info", http))).json();
const roomKey = info.primaryKeyHex as string;

// ---- the clients ----

const workers: Worker[] = [];
function ask<T>(
  worker: Worker,
  command: LoadCommand,
  reply: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (event: MessageEvent) => {
      const data = event.data as Record<string, unknown>;
      if (data.type !== reply && data.type !== "error") return;
      worker.removeEventListener("message", listener);
      if (data.type === "error") reject(new Error(String(data.message)));
      else resolve(data as T);
    };
    worker.addEventListener("message", listener);
    worker.postMessage(command);
  });
}

const setupStart = now();
const slices: { first: number; count: number }[] = [];
for (let w = 0, first = 0; w < workerCount; w++) {
  const count = Math.floor(clients / workerCount) +
    (w < clients % workerCount ? 1 : 0);
  slices.push({ first, count });
  first += count;
  workers.push(
    new Worker(new URL("./load_worker.ts", import.meta.url), {
      type: "module",
    }),
  );
}
const keys = (await Promise.all(
  workers.map((worker, w) =>
    ask<{ keys: string[] }>(worker, { type: "keys", ...slices[w] }, "keys")
  ),
)).flatMap((r) => r.keys);
// Write times of every message, shared by the workers (light readers).
const perWriter = Math.ceil(duration * rate) + 10;
const times = new SharedArrayBuffer(clients * perWriter * 4);
await Promise.all(
  workers.map((worker) =>
    ask(
      worker,
      {
        type: "connect",
        url: url!,
        roomKey,
        keys,
        fanout,
        readers,
        times,
        perWriter,
      },
      "ready",
    )
  ),
);
const setupMs = now() - setupStart;
console.error(
  `${clients} clients connected and following ${
    fanout === "all" ? "the room" : `${fanout} others each`
  } in ${(setupMs / 1000).toFixed(1)} s; writing for ${duration} s…`,
);

// ---- the run ----

const loadBefore = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
const startAt = now() + 500;
const rssStart = pid ? rssMiB(pid) : NaN;
let rssMax = rssStart;
const sampler = setInterval(() => {
  if (pid) rssMax = Math.max(rssMax, rssMiB(pid));
}, 1000);
for (const worker of workers) worker.postMessage({ type: "go", startAt, rate });
await new Promise((r) => setTimeout(r, startAt - now()));
const cpu0 = pid ? cpuSeconds(pid) : NaN;
const ownCpu0 = cpuSeconds("self");
await new Promise((r) => setTimeout(r, duration * 1000));
const cpu1 = pid ? cpuSeconds(pid) : NaN;
const ownCpu1 = cpuSeconds("self");
await Promise.all(workers.map((w) => ask(w, { type: "stop" }, "stopped")));
const rssEnd = pid ? rssMiB(pid) : NaN;

async function reports(): Promise<LoadReport[]> {
  return (await Promise.all(
    workers.map((w) =>
      ask<{ report: LoadReport }>(w, { type: "report" }, "report")
    ),
  )).map((r) => r.report);
}
let all = await reports();
const drainUntil = now() + drainMs;
const sum = (f: (r: LoadReport) => number) => all.reduce((n, r) => n + f(r), 0);
while (sum((r) => r.received) < sum((r) => r.expected) && now() < drainUntil) {
  await new Promise((r) => setTimeout(r, 250));
  all = await reports();
}
clearInterval(sampler);

// ---- results ----

const sent = sum((r) => r.sent);
const expected = sum((r) => r.expected);
const received = sum((r) => r.received);
const latencies = new Float64Array(received);
let at = 0;
for (const r of all) {
  latencies.set(r.latencies, at);
  at += r.latencies.length;
}
// The slowest seconds (by when the messages were written): tails that come
// in bursts point at pauses (GC, storage) rather than steady load.
const perSecond = new Map<number, number[]>();
for (const r of all) {
  r.latencies.forEach((latency, i) => {
    const second = Math.floor(r.writtenAt[i]);
    let list = perSecond.get(second);
    if (!list) perSecond.set(second, list = []);
    list.push(latency);
  });
}
const slowest = [...perSecond].map(([second, list]) => {
  list.sort((a, b) => a - b);
  return { second, p99: list[Math.floor(0.99 * (list.length - 1))] };
}).sort((a, b) => b.p99 - a.p99).slice(0, 5);
latencies.sort();
const pct = (p: number) =>
  latencies.length
    ? latencies[
      Math.min(latencies.length - 1, Math.floor(p * latencies.length))
    ]
    : NaN;
const errors = all.flatMap((r) => r.errors);
const ms = (x: number) => `${x.toFixed(1)} ms`;
const row = [
  String(clients),
  `${rate}/s`,
  `${fanout === "all" ? `all (${clients - 1})` : fanout}${
    readers === "light" ? ", light readers" : ""
  }`,
  `${duration} s`,
  (sent / duration).toFixed(1),
  (received / duration).toFixed(0),
  ms(pct(0.5)),
  ms(pct(0.99)),
  ms(latencies[latencies.length - 1] ?? NaN),
  String(Math.max(0, expected - received)),
  String(sum((r) => r.duplicates)),
  String(errors.length),
  String(sum((r) => r.reconnects)),
  `${rssStart.toFixed(0)} → ${rssMax.toFixed(0)} (end ${
    rssEnd.toFixed(0)
  }) MiB`,
  `${(100 * (cpu1 - cpu0) / duration).toFixed(0)}%`,
  `${(100 * (ownCpu1 - ownCpu0) / duration).toFixed(0)}%`,
];
console.log(
  "| clients | rate | fan-out | duration | written msgs/s | deliveries/s | p50 | p99 | max | lost | duplicated | errors | reconnects | server RSS start → max | server CPU | generator CPU |",
);
console.log(`|${" --- |".repeat(row.length)}`);
console.log(`| ${row.join(" | ")} |`);
console.log(
  `\n${sent} messages written, ${expected} deliveries expected, ${received} received; setup ${
    (setupMs / 1000).toFixed(1)
  } s; machine load average ${loadBefore} before the run, ${
    Deno.readTextFileSync("/proc/loadavg").split(" ")[0]
  } after (other processes share its cores).`,
);
console.log(
  `Slowest seconds (p99 of messages written in that second): ${
    slowest.map((s) => `${s.second}s ${s.p99.toFixed(0)} ms`).join(", ")
  }.`,
);
for (const error of errors.slice(0, 10)) console.log(`error: ${error}`);

// ---- shutdown ----

await Promise.all(workers.map((w) => ask(w, { type: "close" }, "closed")));
for (const worker of workers) worker.terminate();
if (server) {
  server.kill("SIGTERM");
  await server.status;
}
if (dataDir) await Deno.remove(dataDir, { recursive: true });
