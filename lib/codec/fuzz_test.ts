import assert from "node:assert/strict";
import { Streamo } from "../store/streamo.ts";
import { virtualAddress } from "./chunk_store.ts";
import { DUPLE, PART_OPTIONS, UNUSED } from "./footers.ts";
// A seeded PRNG (mulberry32), so that a failure can be replayed.
import { prng } from "../../tests/support/storage_data.ts";

const ALLOWED = [RangeError, SyntaxError, TypeError];

/** Runs `f`; rethrows unless it succeeds or throws an allowed error class. */
function tolerant(what: string, f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (error) {
    if (ALLOWED.some((type) => error instanceof type)) {
      const message = (error as Error).message;
      // Engine errors would mean a crash, not a clear rejection.
      assert.doesNotMatch(
        message,
        /Cannot read propert|is not a function|is not iterable|Maximum call stack/,
        `${what}: ${message}`,
      );
      return false;
    }
    throw new Error(`${what} threw ${String(error)}`, { cause: error });
  }
}

function baseStore(): Streamo {
  const s = new Streamo();
  s.set({
    name: "alice",
    list: [1, -2.5, [3, "four"], { five: 5 }],
    bytes: new Uint8Array(21).map((_, i) => i * 7),
    at: new Date(0),
  });
  s.set("list", 4, "pushed");
  return s;
}

Deno.test("fuzz: 10,000 random byte strings never crash decode(), append() or the readers", () => {
  const random = prng(0x5eed);
  const base = baseStore();
  // Codes of every kind, encoded against the base stream.
  const pool = [
    -1.5,
    1e300,
    "hi",
    "a longer string value",
    new Uint8Array([1, 2, 3, 4, 5, 6]),
    new Date(1746619200000),
    [1, 2],
    [[1], [2, 3]],
    { a: 1 },
    { name: "alice", n: 2, list: [1, 2, 3] },
  ].map((value) => base.encode(value));
  const CASES = 10_000;
  let maxMs = 0;
  let accepted = 0;
  let decoded = 0;
  for (let c = 0; c < CASES; c++) {
    const s = c % 4 === 0 ? new Streamo() : base.clone();
    let bytes: Uint8Array;
    if (c % 2 === 0) {
      // Random bytes, biased towards addresses in the stream and footers.
      const length = Math.floor(random() * 20);
      bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        bytes[i] = random() < 0.4
          ? Math.floor(random() * Math.max(1, s.byteLength))
          : Math.floor(random() * 256);
      }
      if (length > 0 && random() < 0.5) {
        bytes[length - 1] = DUPLE + Math.floor(random() * (UNUSED - DUPLE));
      }
    } else {
      // A real code with a byte changed, dropped or added.
      const code = pool[Math.floor(random() * pool.length)];
      const at = Math.floor(random() * code.length);
      const mutation = Math.floor(random() * 3);
      const byte = Math.floor(random() * 256);
      bytes = new Uint8Array(
        mutation === 0
          ? [...code.subarray(0, at), byte, ...code.subarray(at + 1)]
          : mutation === 1
          ? [...code.subarray(0, at), ...code.subarray(at + 1)]
          : [...code.subarray(0, at), byte, ...code.subarray(at)],
      );
    }
    const what = `case ${c} [${bytes.join(",")}]`;
    const t0 = performance.now();
    if (tolerant(`${what} decode`, () => s.decode(bytes))) decoded++;
    const before = s.byteLength;
    let address = -1;
    if (tolerant(`${what} append`, () => (address = s.append(bytes)))) {
      accepted++;
      tolerant(`${what} decode(address)`, () => s.decode(address));
      tolerant(`${what} get`, () => s.get());
      tolerant(`${what} getRefs`, () => s.getRefs());
      tolerant(`${what} get(0)`, () => s.get(0));
      tolerant(`${what} get(name, length)`, () => s.get("name", "length"));
      tolerant(`${what} set`, () => s.set("k", 1));
    } else {
      assert.equal(s.byteLength, before, `${what}: a failed append grew it`);
    }
    const ref = -1 - Math.floor(random() * 0x1010100);
    tolerant(`${what} decode(ref)`, () => s.decode(ref));
    maxMs = Math.max(maxMs, performance.now() - t0);
  }
  console.log(
    `fuzz bytes: ${CASES} cases, ${decoded} decoded, ${accepted} appended, max ${
      maxMs.toFixed(2)
    } ms/case`,
  );
});

/** A random code of the right width whose parts name chunks of `ends`. */
function randomCode(random: () => number, ends: number[], depth = 0): number[] {
  const int = (n: number) => Math.floor(random() * n);
  const part = (): [number[], number] => {
    if (depth > 2 || ends.length === 0 || random() < 0.4) {
      return [depth > 2 ? [int(4)] : randomCode(random, ends, depth + 1), 0];
    }
    let a = ends[int(ends.length)];
    const bytes: number[] = [];
    do {
      bytes.push(a & 0xff);
      a = Math.floor(a / 256);
    } while (a > 0);
    return [bytes, bytes.length];
  };
  const one = (base: number) => {
    const [bytes, option] = part();
    return [...bytes, base + option];
  };
  const f = int(UNUSED);
  if (f < 4 || f === 14 || (f >= 20 && f < 148) || f === 187 || f === 193) {
    return [f];
  }
  if (f < 9) return [...Array(f - 4)].map(() => int(256)).concat([f]);
  if (f < 14) return one(9);
  if (f < 20) return one(15);
  if (f < 153) return one(148);
  if (f < 158) return one(153);
  if (f < 162) {
    return [...Array(f - 157 + 64)].map(() => int(256)).concat([f]);
  }
  if (f < 187) {
    const [right, ro] = part();
    const [left, lo] = part();
    return [...left, ...right, DUPLE + PART_OPTIONS * lo + ro];
  }
  if (f < 193) return one(188);
  if (f < 199) return one(194);
  return one(199);
}

Deno.test("fuzz: 1,000 streams of random well-formed chunks decode or fail with a clear error", () => {
  const random = prng(0xc0de);
  const STREAMS = 1000;
  let maxMs = 0;
  let chunks = 0;
  let values = 0;
  for (let c = 0; c < STREAMS; c++) {
    const s = new Streamo();
    s.set({ a: [1, "two", { three: 3 }], b: "hello world" });
    const ends: number[] = [];
    for (let a = 0; a < s.byteLength; a++) {
      if (s.isChunkBoundary(a + 1)) ends.push(a);
    }
    const t0 = performance.now();
    for (let k = 0; k < 20; k++) {
      const code = new Uint8Array(randomCode(random, ends));
      const what = `stream ${c} chunk ${k} [${code.join(",")}]`;
      const before = s.byteLength;
      let address = -1;
      if (!tolerant(`${what} append`, () => (address = s.append(code)))) {
        assert.equal(s.byteLength, before);
        continue;
      }
      chunks++;
      ends.push(address);
      if (tolerant(`${what} decode`, () => s.decode(address))) values++;
      tolerant(`${what} get`, () => s.get());
      tolerant(`${what} get(a, 1)`, () => s.get("a", 1));
      tolerant(`${what} get(0, length)`, () => s.get(0, "length"));
      tolerant(`${what} getRefs`, () => s.getRefs());
      tolerant(`${what} set`, () => s.set(1, "z", 2));
      tolerant(`${what} clone`, () => s.clone(address).get());
      tolerant(
        `${what} decode(virtual)`,
        () =>
          s.decode(virtualAddress(code.subarray(Math.max(0, code.length - 4)))),
      );
    }
    maxMs = Math.max(maxMs, performance.now() - t0);
  }
  console.log(
    `fuzz chunks: ${STREAMS} streams, ${chunks} chunks appended, ${values} decoded, max ${
      maxMs.toFixed(2)
    } ms/stream`,
  );
});
