/**
 * Test data for storage: streams of signed-looking ranges. Each range is a
 * value's new chunks followed by a SIGNATURE chunk whose address is where
 * the previous SIGNATURE starts (its 64 bytes are zeros: storage does not
 * verify signatures).
 *
 * @module
 */

import { Signature, Streamo } from "../../lib/mod.ts";
import { isSignatureChunk } from "../../lib/storage/checker.ts";
import { loadInto } from "../../lib/storage/load.ts";

/** Repo keys for tests (66 lower-case hex characters, `02`/`03` prefix). */
export const KEY_A: string = "02" + "a1".repeat(32);
/** A second test key. */
export const KEY_B: string = "03" + "b2".repeat(32);
/** A third test key. */
export const KEY_C: string = "02" + "c3".repeat(32);

/** A range: its stream offset and chunks. */
export interface TestRange {
  /** Stream offset of the range's first chunk. */
  offset: number;
  /** The range's chunks; the last is a SIGNATURE chunk. */
  chunks: Uint8Array[];
}

/** Builds a stream range by range, like a repo that signs every write. */
export class RangeBuilder {
  /** The stream built so far. */
  readonly store: Streamo;
  #signatureStart = 0;

  /** Continues `chunks` (a loaded stream), or starts an empty one. */
  constructor(chunks: readonly Uint8Array[] = []) {
    this.store = new Streamo();
    loadInto(this.store, chunks);
    let offset = 0;
    for (const chunk of chunks) {
      if (isSignatureChunk(chunk)) this.#signatureStart = offset;
      offset += chunk.length;
    }
  }

  /** Stream bytes so far. */
  get byteLength(): number {
    return this.store.byteLength;
  }

  /** Sets `value` and signs: returns the new range. */
  next(value: unknown): TestRange {
    const offset = this.store.byteLength;
    this.store.set(value);
    const start = this.store.byteLength;
    this.store.appendChunk(
      this.store.encode(
        new Signature(this.#signatureStart, new Uint8Array(64)),
      ),
    );
    this.#signatureStart = start;
    return { offset, chunks: chunksOf(this.store, offset) };
  }
}

/** The chunks of `store` from `start` (a chunk boundary) to its end (copies). */
export function chunksOf(store: Streamo, start = 0): Uint8Array[] {
  const end = store.byteLength;
  const bytes = store.slice(start, end);
  const out: Uint8Array[] = [];
  let from = 0;
  for (let at = start + 1; at <= end; at++) {
    if (store.isChunkBoundary(at)) {
      out.push(bytes.slice(from, at - start));
      from = at - start;
    }
  }
  return out;
}

/** Concatenates chunks. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const chunk of chunks) n += chunk.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A deterministic pseudo-random generator (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes from `random`. */
export function randomBytes(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 256) | 0;
  return out;
}

/** A chat-like value for commit `i`. */
export function chatValue(i: number, random: () => number): unknown {
  return {
    name: "tester",
    n: i,
    text: `message ${i} ` + "x".repeat((random() * 40) | 0),
    at: 1_700_000_000_000 + i,
    blob: randomBytes(random, (random() * 64) | 0),
  };
}

/** `count` ranges of chat values `first`, `first + 1`, ... from `builder`. */
function chatRanges(
  builder: RangeBuilder,
  count: number,
  seed: number,
  first: number,
): TestRange[] {
  const random = prng(seed);
  const ranges: TestRange[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push(builder.next(chatValue(first + i, random)));
  }
  return ranges;
}

/** A new stream of `count` chat-like ranges (deterministic for a `seed`). */
export function buildRanges(count: number, seed = 1): TestRange[] {
  return chatRanges(new RangeBuilder(), count, seed, 0);
}

/**
 * `count` new ranges continuing `prefix` (chunks ending on a signed range):
 * a different continuation than the one stored, as a rebase writes.
 */
export function continueRanges(
  prefix: readonly Uint8Array[],
  count: number,
  seed: number,
): TestRange[] {
  return chatRanges(new RangeBuilder(prefix), count, seed, 1000);
}
