/**
 * Codec workload W1 as a table: encode+append 100,000 distinct
 * `{ i, text, at }` objects into one Streamo, then decode them all.
 *
 *     deno run -A bench/codec_table.ts [count] [rounds]
 *
 * Prints objects/s for encode and decode, bytes per object, and the cost of
 * encoding one more object into an empty store versus a store that already
 * holds `count` objects (chunk lookup must not degrade as the store grows).
 * Each figure is the best of `rounds` runs (default 5).
 *
 * @module
 */

import { Streamo } from "../lib/mod.ts";

/** The W1 object number `i`. */
export function w1Object(i: number): Record<string, unknown> {
  return {
    i,
    text: "message " + i,
    at: new Date(1746619200000 + i * 1000),
  };
}

/** Encodes+appends objects `[from, to)` into `s`; returns their addresses. */
export function encodeRange(s: Streamo, from: number, to: number): number[] {
  const addresses = new Array<number>(to - from);
  for (let i = from; i < to; i++) {
    addresses[i - from] = s.append(s.encode(w1Object(i)));
  }
  return addresses;
}

/** Decodes every address; returns how many decoded to objects. */
export function decodeAll(s: Streamo, addresses: number[]): number {
  let ok = 0;
  for (const address of addresses) {
    if (typeof s.decode(address) === "object") ok++;
  }
  return ok;
}

/** Median µs to encode+append one fresh W1 object into `s`, over `samples`. */
function oneEncodeMicros(
  make: () => Streamo,
  base: number,
  samples: number,
): number {
  const times: number[] = [];
  for (let k = 0; k < samples; k++) {
    const s = make();
    const t0 = performance.now();
    // Batches of 10 so the timer's resolution does not dominate.
    for (let j = 0; j < 10; j++) {
      s.append(s.encode(w1Object(base + k * 10 + j)));
    }
    times.push((performance.now() - t0) * 100);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 100_000);
  const rounds = Number(Deno.args[1] ?? 5);
  let bestEncode = Infinity;
  let bestDecode = Infinity;
  let bytes = 0;
  let full: Streamo | undefined;
  for (let r = 0; r < rounds; r++) {
    const s = new Streamo();
    const t0 = performance.now();
    const addresses = encodeRange(s, 0, count);
    const t1 = performance.now();
    const decoded = decodeAll(s, addresses);
    const t2 = performance.now();
    if (decoded !== count) throw new Error(`decoded ${decoded} of ${count}`);
    bestEncode = Math.min(bestEncode, t1 - t0);
    bestDecode = Math.min(bestDecode, t2 - t1);
    bytes = s.byteLength;
    full = s;
  }
  // The same store each time, so the first 10 samples' appends stay small
  // next to its size; an empty store is made fresh for each sample.
  const big = full!;
  const emptyMicros = oneEncodeMicros(() => new Streamo(), count, 200);
  const fullMicros = oneEncodeMicros(() => big, count, 200);
  const rows: [string, string][] = [
    ["objects", String(count)],
    ["encode+append objects/s", Math.round(count / bestEncode * 1000) + ""],
    ["decode objects/s", Math.round(count / bestDecode * 1000) + ""],
    ["bytes/object", (bytes / count).toFixed(1)],
    ["encode µs, empty store", emptyMicros.toFixed(2)],
    [`encode µs, store of ${count}`, fullMicros.toFixed(2)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${"metric".padEnd(width)} | value |`);
  console.log(`|${"-".repeat(width + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}
