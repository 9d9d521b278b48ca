/**
 * Repo benchmarks (issue "Signed commit log"): commit cost via the append
 * path at n = 1k, 10k and 100k messages, and ingest throughput of a
 * pre-signed 1,000-commit stream.
 *
 *     deno run -A bench/repo_bench.ts
 */

import {
  encodeFrames,
  Ingest,
  Repo,
  Signer,
  useFastestBackend,
} from "../lib/mod.ts";

function chatRepo(): Repo {
  let t = 1746619200000;
  const repo = new Repo({ now: () => t += 1000 });
  repo.set({ name: "alice", messages: [] });
  return repo;
}

function row(cells: (string | number)[]): string {
  return "| " + cells.join(" | ") + " |";
}

// (a) Commit cost at n messages, via push (O(log n) append path).
console.log("\n(a) commit cost via Repo.push(), unsigned\n");
console.log(
  row(["n (messages already in repo)", "µs per commit", "bytes per commit"]),
);
console.log(row(["---", "---", "---"]));
{
  const repo = chatRepo();
  const checkpoints = [1_000, 10_000, 100_000];
  let n = 0;
  for (const target of checkpoints) {
    while (n < target) {
      repo.push("messages", { text: "message " + n, at: 1746619200000 + n });
      n++;
    }
    const samples = 1000;
    const bytesBefore = repo.byteLength;
    const start = performance.now();
    for (let i = 0; i < samples; i++) {
      repo.push("messages", { text: "message " + n, at: 1746619200000 + n });
      n++;
    }
    const us = (performance.now() - start) * 1000 / samples;
    console.log(
      row([
        target.toLocaleString("en"),
        us.toFixed(1),
        ((repo.byteLength - bytesBefore) / samples).toFixed(0),
      ]),
    );
  }
}

// (c) Ingest throughput of a pre-signed 1,000-commit stream.
const backend = await useFastestBackend();
console.log(
  `\n(c) ingest of a pre-signed 1,000-commit stream (verify backend: ${backend.backend.name})\n`,
);
console.log(row(["signatures", "MB", "ms", "MB/s", "commits/s"]));
console.log(row(["---", "---", "---", "---", "---"]));
const signer = new Signer("alice", "pw", 1);
for (const batch of [1, 100]) {
  let t = 1746619200000;
  const writer = new Repo({ now: () => t += 1000 });
  await writer.attachSigner(signer, "chat");
  writer.set({ name: "alice", messages: [] });
  await writer.whenSigned();
  for (let i = 0; i < 1000; i++) {
    writer.push("messages", { text: "message " + i, at: t });
    if ((i + 1) % batch === 0) await writer.whenSigned();
  }
  await writer.whenSigned();
  const frames = encodeFrames(writer.chunksBetween(0));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const reader = new Repo({ key: writer.key });
    const start = performance.now();
    new Ingest(reader).write(frames);
    best = Math.min(best, performance.now() - start);
    if (reader.byteLength !== writer.byteLength) {
      throw new Error("ingest incomplete");
    }
  }
  const mb = frames.length / 1e6;
  console.log(
    row([
      batch === 1 ? "one per commit" : `one per ${batch} commits`,
      mb.toFixed(2),
      best.toFixed(1),
      (mb / best * 1000).toFixed(1),
      Math.round(1000 / best * 1000),
    ]),
  );
}
