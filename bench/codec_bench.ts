/**
 * Codec benchmarks, workload W1: encode+append 100,000 distinct
 * `{ i, text, at }` objects into one Streamo, then decode them all; and the
 * cost of ten more objects (and of one chunk lookup) in an empty store versus
 * a store that already holds 100,000 objects.
 *
 *     deno bench -A bench/codec_bench.ts
 *
 * `deno run -A bench/codec_table.ts` prints the same workload as a table
 * (objects/s, bytes/object).
 *
 * @module
 */

import { Streamo } from "../lib/mod.ts";
import { decodeAll, encodeRange, w1Object } from "./codec_table.ts";

const COUNT = 100_000;

// One store of 100,000 objects for the decode and lookup benchmarks.
const full = new Streamo();
const addresses = encodeRange(full, 0, COUNT);
console.error(
  `W1: ${COUNT} objects, ${full.byteLength} bytes, ${
    (full.byteLength / COUNT).toFixed(1)
  } bytes/object`,
);

Deno.bench({
  name: "W1 encode+append 100,000 objects into one Streamo",
  group: "W1",
  n: 5,
  warmup: 1,
  fn() {
    encodeRange(new Streamo(), 0, COUNT);
  },
});

Deno.bench({
  name: "W1 decode 100,000 objects",
  group: "W1",
  n: 10,
  warmup: 2,
  fn() {
    if (decodeAll(full, addresses) !== COUNT) throw new Error("decode failed");
  },
});

let next = COUNT;

// Ten objects per iteration, so that the timer brackets only the encoding.
Deno.bench({
  name: "encode+append 10 objects into an empty store",
  group: "10 objects",
  baseline: true,
  fn(b) {
    const s = new Streamo();
    const values = Array.from({ length: 10 }, () => w1Object(next++));
    b.start();
    for (const value of values) s.append(s.encode(value));
    b.end();
  },
});

Deno.bench({
  name: "encode+append 10 objects into a store of 100,000 objects",
  group: "10 objects",
  fn(b) {
    const values = Array.from({ length: 10 }, () => w1Object(next++));
    b.start();
    for (const value of values) full.append(full.encode(value));
    b.end();
  },
});

const small = new Streamo();
encodeRange(small, 0, 10);
const probe = small.resolve(small.valueAddress);
const probeFull = full.resolve(addresses[COUNT >> 1]);

Deno.bench({
  name: "addressOf() of a stored chunk, store of 10 objects",
  group: "lookup",
  baseline: true,
  fn() {
    if (small.addressOf(probe) === undefined) throw new Error("not found");
  },
});

Deno.bench({
  name: "addressOf() of a stored chunk, store of 100,000 objects",
  group: "lookup",
  fn() {
    if (full.addressOf(probeFull) === undefined) throw new Error("not found");
  },
});
