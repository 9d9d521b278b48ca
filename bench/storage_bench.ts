/**
 * Storage benchmarks.
 *
 * - W6: cold load of a 1,000-commit chat archive (`{ name, messages }`, one
 *   message pushed per commit, each commit signed): a fresh process opens
 *   the driver, loads the repo's chunks and `loadInto`s a `Repo` until its
 *   value is readable. Target ≤ 50 ms (reference: 2.1 s).
 * - W5: memory held after loading a 500-commit repo, measured in a fresh
 *   process with `--expose-gc` (heap + external after GC, minus before),
 *   as a multiple of the stream's bytes. Target ≤ 3×.
 *
 *     deno run -A bench/storage_bench.ts      # prints the table
 *     deno bench -A bench/storage_bench.ts    # warm in-process loads
 *
 * @module
 */

import { Repo, Signer } from "../lib/mod.ts";
import { FileStorage } from "../lib/storage/file_storage.deno.ts";
import { KvStorage } from "../lib/storage/kv_storage.deno.ts";
import { loadInto, streamLength } from "../lib/storage/mod.ts";
import type { StorageDriver } from "../lib/storage/types.ts";

const W6_COMMITS = 1000;
const W5_COMMITS = 500;
const W6_TARGET_MS = 50;
const W5_TARGET_RATIO = 3;
const W5_COPIES = 16;
const COLD_RUNS = 5;

/** Builds a signed chat repo of `commits` commits and stores it in `driver`. */
async function buildChat(
  driver: StorageDriver,
  commits: number,
): Promise<{ key: string; bytes: number }> {
  let clock = 1_746_619_200_000;
  const repo = new Repo({ now: () => clock++ });
  await repo.attachSigner(new Signer("bench", "pw", 1), "chat");
  const appends: Promise<void>[] = [];
  repo.onVerified((range) => {
    appends.push(driver.append(repo.key!, range.offset, range.chunks));
  });
  repo.set({ name: "bench", messages: [] });
  await repo.whenSigned();
  for (let i = 1; i < commits; i++) {
    repo.push("messages", {
      text: `message ${i}: the quick brown fox jumps over the lazy dog`,
      at: clock,
    });
    await repo.whenSigned();
  }
  await Promise.all(appends);
  await driver.flush();
  return { key: repo.key!, bytes: repo.byteLength };
}

/** Loads `key` from `driver` into a fresh Repo until its value is readable. */
async function loadRepo(driver: StorageDriver, key: string): Promise<Repo> {
  const chunks = await driver.load(key);
  const repo = new Repo({ key, capacity: streamLength(chunks) });
  loadInto(repo, chunks);
  if (repo.get("name") !== "bench") throw new Error("bad load");
  return repo;
}

function openDriver(kind: string, path: string): Promise<StorageDriver> {
  return kind === "file"
    ? Promise.resolve(new FileStorage(path))
    : Deno.openKv(path).then((kv) => new KvStorage(kv, {}, true));
}

/** Child mode: one measurement, printed as JSON. */
async function child(args: string[]): Promise<void> {
  const [mode, kind, path, key] = args;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (mode === "cold") {
    const t0 = performance.now();
    const driver = await openDriver(kind, path);
    const repo = await loadRepo(driver, key);
    const ms = performance.now() - t0;
    const messages = (repo.get("messages") as unknown[]).length;
    const t1 = performance.now();
    repo.get("messages", messages - 1, "text");
    const lastMs = performance.now() - t1;
    await driver.close();
    // Warm: the same load again, several times, in this process.
    const warm: number[] = [];
    for (let i = 0; i < 15; i++) {
      const d = await openDriver(kind, path);
      const t = performance.now();
      await loadRepo(d, key);
      warm.push(performance.now() - t);
      await d.close();
    }
    warm.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        ms,
        warm: warm[warm.length >> 1],
        messages,
        lastMs,
        bytes: repo.byteLength,
      }),
    );
  } else {
    if (!gc) throw new Error("run with --v8-flags=--expose-gc");
    const driver = await openDriver(kind, path);
    const usage = () => {
      // Two full collections: the second frees what the first finalized.
      gc();
      gc();
      const m = Deno.memoryUsage();
      return m.heapUsed + m.external;
    };
    // First load: includes code compiled on first use and module state.
    usage();
    const before = usage();
    const first = await loadRepo(driver, key);
    const firstDelta = usage() - before;
    // Steady state: what a loaded repo holds once code is warm, averaged
    // over several loaded copies (GC accounting of external memory is
    // coarse for one).
    const base = usage();
    const repos: Repo[] = [];
    for (let i = 0; i < W5_COPIES; i++) repos.push(await loadRepo(driver, key));
    const after = usage();
    await driver.close();
    const repo = repos[0];
    console.log(
      JSON.stringify({
        delta: (after - base) / W5_COPIES,
        firstDelta: firstDelta - (first.byteLength > 0 ? 0 : 1),
        bytes: repo.byteLength,
      }),
    );
    // Keep the repo alive until after the measurement.
    if (repos.length < 0) console.log(repos);
  }
}

async function spawn(args: string[], gc = false): Promise<unknown> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(gc ? ["--v8-flags=--expose-gc"] : []),
      new URL(import.meta.url).pathname,
      "--child",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `bench child failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const text = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(text[text.length - 1]);
}

async function main(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "streamo-bench-" });
  try {
    const rows: string[][] = [];
    for (const kind of ["file", "kv"]) {
      for (const commits of [W6_COMMITS, W5_COMMITS]) {
        const path = kind === "file"
          ? `${dir}/files-${commits}`
          : `${dir}/store-${commits}.kv`;
        const driver = await openDriver(kind, path);
        const { key, bytes } = await buildChat(driver, commits);
        await driver.close();
        if (commits === W6_COMMITS) {
          const runs: { ms: number; warm: number; lastMs: number }[] = [];
          for (let i = 0; i < COLD_RUNS; i++) {
            runs.push(await spawn(["cold", kind, path, key]) as typeof runs[0]);
          }
          runs.sort((a, b) => a.ms - b.ms);
          const median = runs[COLD_RUNS >> 1];
          const warm = runs.map((r) => r.warm).sort((a, b) => a - b);
          rows.push([
            `W6 cold load, ${commits} commits (${kind})`,
            `${median.ms.toFixed(1)} ms median of ${COLD_RUNS} processes (min ${
              runs[0].ms.toFixed(1)
            }; warm ${warm[COLD_RUNS >> 1].toFixed(1)} ms; ${bytes} B)`,
            `≤ ${W6_TARGET_MS} ms (ref 2.1 s)`,
            median.ms <= W6_TARGET_MS ? "ok" : "MISS",
          ]);
        } else {
          const m = await spawn(["memory", kind, path, key], true) as {
            delta: number;
            firstDelta: number;
            bytes: number;
          };
          const ratio = m.delta / m.bytes;
          rows.push([
            `W5 memory after load, ${commits} commits (${kind})`,
            `${(m.delta / 1024).toFixed(0)} KiB = ${
              ratio.toFixed(2)
            }× of ${m.bytes} B (first load incl. code: ${
              (m.firstDelta / m.bytes).toFixed(2)
            }×)`,
            `≤ ${W5_TARGET_RATIO}×`,
            ratio <= W5_TARGET_RATIO ? "ok" : "MISS",
          ]);
        }
      }
    }
    const head = ["workload", "result", "target", ""];
    const widths = head.map((h, i) =>
      Math.max(h.length, ...rows.map((r) => r[i].length))
    );
    const line = (r: string[]) =>
      "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
    console.log(line(head));
    console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
    for (const row of rows) console.log(line(row));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] === "--child") {
  await child(Deno.args.slice(1));
} else if (import.meta.main) {
  await main();
} else {
  // `deno bench`: warm in-process loads of a 1,000-commit archive.
  const dir = await Deno.makeTempDir({ prefix: "streamo-bench-" });
  const storage = new FileStorage(dir);
  const { key } = await buildChat(storage, W6_COMMITS);
  await storage.close();
  Deno.bench({
    name: `W6 file: load + loadInto a ${W6_COMMITS}-commit chat archive`,
    async fn() {
      const driver = new FileStorage(dir);
      await loadRepo(driver, key);
      await driver.close();
    },
  });
  globalThis.addEventListener("unload", () => {
    Deno.removeSync(dir, { recursive: true });
  });
}
