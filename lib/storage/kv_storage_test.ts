import assert from "node:assert/strict";
import { Repo } from "../mod.ts";
import { KvStorage, openKvStorage } from "./kv_storage.deno.ts";
import { loadInto, StorageError } from "./mod.ts";
import {
  chatValue,
  KEY_A,
  KEY_B,
  KEY_C,
  prng,
  randomBytes,
  RangeBuilder,
  type TestRange,
} from "../../tests/support/storage_data.ts";

async function withKvFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "streamo-kv-" });
  try {
    await fn(`${dir}/store.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function buildRanges(count: number, seed = 1): TestRange[] {
  const builder = new RangeBuilder();
  const random = prng(seed);
  const ranges: TestRange[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push(builder.next(chatValue(i, random)));
  }
  return ranges;
}

/** One range holding a byte array of `size` random bytes. */
function bigRange(size: number, seed = 3): TestRange {
  return new RangeBuilder().next({ blob: randomBytes(prng(seed), size) });
}

function allChunks(ranges: TestRange[]): Uint8Array[] {
  return ranges.flatMap((range) => range.chunks);
}

function bytesOf(ranges: TestRange[]): number {
  return allChunks(ranges).reduce((n, chunk) => n + chunk.length, 0);
}

Deno.test("kv storage: ranges written to a real KV file load back byte-identical after close and reopen", async () => {
  await withKvFile(async (path) => {
    const ranges = buildRanges(25);
    const storage = await openKvStorage(path);
    for (const range of ranges) {
      await storage.append(KEY_A, range.offset, range.chunks);
    }
    await storage.close();
    const again = await openKvStorage(path);
    assert.deepStrictEqual(await again.load(KEY_A), allChunks(ranges));
    assert.deepStrictEqual(await again.keys(), [KEY_A]);
    assert.deepStrictEqual(await again.load(KEY_B), []);
    await again.close();
  });
});

Deno.test("kv storage: works on :memory: and on a caller's Deno.Kv, which close() leaves open", async () => {
  const ranges = buildRanges(3);
  const memory = await openKvStorage(":memory:");
  for (const range of ranges) {
    await memory.append(KEY_A, range.offset, range.chunks);
  }
  assert.deepStrictEqual(await memory.load(KEY_A), allChunks(ranges));
  await memory.close();

  const kv = await Deno.openKv(":memory:");
  const storage = await openKvStorage(kv, { prefix: ["app", "streams"] });
  await storage.append(KEY_B, 0, ranges[0].chunks);
  await storage.close();
  const length = await kv.get(["app", "streams", "length", KEY_B]);
  assert.equal(length.value, bytesOf(ranges.slice(0, 1)));
  const reopened = new KvStorage(kv, { prefix: ["app", "streams"] });
  assert.deepStrictEqual(await reopened.load(KEY_B), ranges[0].chunks);
  await reopened.close();
  kv.close();
});

Deno.test("kv storage: a range over 64 KiB is split into pieces of at most 60 KiB at chunk boundaries", async () => {
  const range = bigRange(100_000);
  const total = bytesOf([range]);
  assert.ok(total > 65536);
  const kv = await Deno.openKv(":memory:");
  const storage = new KvStorage(kv);
  await storage.append(KEY_A, 0, range.chunks);
  const pieces = await Array.fromAsync(
    kv.list<Uint8Array>({ prefix: ["streamo", "repo", KEY_A] }),
  );
  assert.ok(pieces.length >= 2);
  let offset = 0;
  for (const piece of pieces) {
    assert.equal(piece.key[3], offset);
    assert.ok(piece.value.length <= 60 * 1024);
    offset += piece.value.length;
  }
  assert.equal(offset, total);
  assert.deepStrictEqual(await storage.load(KEY_A), range.chunks);
  await storage.close();
  kv.close();
});

Deno.test("kv storage: a range too big for one atomic operation is written in several, the length last", async () => {
  // More than KV's 800 KiB per operation.
  const range = bigRange(350_000, 5);
  const total = bytesOf([range]);
  assert.ok(total > 800 * 1024, `range is ${total} bytes`);
  const kv = await Deno.openKv(":memory:");
  const storage = new KvStorage(kv);
  await storage.append(KEY_A, 0, range.chunks);
  assert.equal((await kv.get(["streamo", "length", KEY_A])).value, total);
  assert.deepStrictEqual(await storage.load(KEY_A), range.chunks);
  const repo = new Repo();
  loadInto(repo, await storage.load(KEY_A));
  assert.equal(repo.byteLength, total);

  // More than KV's 1,000 mutations per operation (small pieces).
  const small = new KvStorage(kv, { prefix: ["small"], maxPieceBytes: 100 });
  const many = bigRange(40_000, 6);
  assert.ok(bytesOf([many]) / 100 > 1000);
  await small.append(KEY_B, 0, many.chunks);
  assert.deepStrictEqual(await small.load(KEY_B), many.chunks);
  await small.close();
  await storage.close();
  kv.close();
});

Deno.test("kv storage: pieces beyond the stored length (an interrupted multi-part append) are ignored and then replaced", async () => {
  const ranges = buildRanges(4);
  const kv = await Deno.openKv(":memory:");
  const storage = new KvStorage(kv);
  await storage.append(KEY_A, 0, ranges[0].chunks);
  // What a crash between the parts of a huge append leaves: pieces at and
  // past the length, with the length not updated.
  await kv.set(
    ["streamo", "repo", KEY_A, ranges[1].offset],
    new Uint8Array([1]),
  );
  await kv.set(
    ["streamo", "repo", KEY_A, ranges[1].offset + 7],
    new Uint8Array([2]),
  );
  await kv.set(["streamo", "repo", KEY_A, 1_000_000], new Uint8Array([3]));
  assert.deepStrictEqual(await storage.load(KEY_A), ranges[0].chunks);
  for (const range of ranges.slice(1)) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  assert.deepStrictEqual(await storage.load(KEY_A), allChunks(ranges));
  const keys = await Array.fromAsync(
    kv.list({ prefix: ["streamo", "repo", KEY_A] }),
    (entry) => entry.key[3],
  );
  assert.deepStrictEqual(keys, ranges.map((range) => range.offset));
  await storage.close();
  kv.close();
});

Deno.test("kv storage: two writers on the same KV file cannot interleave: one append per offset wins", async () => {
  await withKvFile(async (path) => {
    const mine = buildRanges(2, 1);
    const theirs = buildRanges(2, 2);
    const a = await openKvStorage(path);
    const b = await openKvStorage(path);
    const results = await Promise.allSettled([
      a.append(KEY_A, 0, mine[0].chunks),
      b.append(KEY_A, 0, theirs[0].chunks),
    ]);
    const won = results.filter((r) => r.status === "fulfilled").length;
    assert.equal(won, 1);
    const lost = results.find((r) => r.status === "rejected") as
      | PromiseRejectedResult
      | undefined;
    assert.ok(lost?.reason instanceof RangeError, String(lost?.reason));
    const winner = results[0].status === "fulfilled" ? mine : theirs;
    assert.deepStrictEqual(await a.load(KEY_A), winner[0].chunks);
    assert.deepStrictEqual(await b.load(KEY_A), winner[0].chunks);
    // A stale offset is refused.
    await assert.rejects(
      () => b.append(KEY_A, 0, winner[0].chunks),
      RangeError,
    );
    await a.close();
    await b.close();
  });
});

Deno.test("kv storage: concurrent appends to several repos each land in order", async () => {
  const storage = await openKvStorage(":memory:");
  const keys = [KEY_A, KEY_B, KEY_C];
  const streams = keys.map((_, i) => buildRanges(15, i + 11));
  await Promise.all(
    keys.flatMap((key, i) =>
      streams[i].map((range) => storage.append(key, range.offset, range.chunks))
    ),
  );
  await storage.flush();
  assert.deepStrictEqual(await storage.keys(), [...keys].sort());
  for (const [i, key] of keys.entries()) {
    assert.deepStrictEqual(await storage.load(key), allChunks(streams[i]));
  }
  await storage.close();
});

Deno.test("kv storage: damaged pieces are a StorageError naming the entry and offset, with the readable prefix", async () => {
  const ranges = buildRanges(4);
  const kv = await Deno.openKv(":memory:");
  const storage = new KvStorage(kv);
  for (const range of ranges) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  const key = ["streamo", "repo", KEY_A, ranges[2].offset];
  const piece = (await kv.get<Uint8Array>(key)).value!;
  const damaged = piece.slice();
  damaged[damaged.length - 1] = 250; // an unused footer
  await kv.set(key, damaged);
  const error = await storage.load(KEY_A).then(
    () => assert.fail("load should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof StorageError);
  assert.equal(error.offset, ranges[2].offset);
  assert.match(error.message, /Deno KV/);
  assert.match(error.message, new RegExp(`offset ${ranges[2].offset}`));
  assert.deepStrictEqual(error.chunks, allChunks(ranges.slice(0, 2)));

  // A missing piece.
  await kv.set(key, piece);
  await kv.delete(["streamo", "repo", KEY_A, ranges[1].offset]);
  await assert.rejects(() => storage.load(KEY_A), /missing/);
  await storage.close();
  kv.close();
});

Deno.test("kv storage: bad keys, offsets and ranges are refused", async () => {
  const storage = await openKvStorage(":memory:");
  const [range] = buildRanges(1);
  await assert.rejects(
    () => storage.append("nope", 0, range.chunks),
    TypeError,
  );
  await assert.rejects(() => storage.load("02ABC"), TypeError);
  await assert.rejects(
    () => storage.append(KEY_A, 5, range.chunks),
    RangeError,
  );
  await assert.rejects(() => storage.append(KEY_A, 0, []), RangeError);
  await assert.rejects(
    () => storage.append(KEY_A, 0, range.chunks.slice(0, -1)),
    /SIGNATURE/,
  );
  assert.throws(
    () => new KvStorage(storage.kv, { maxPieceBytes: 70_000 }),
    RangeError,
  );
  await storage.close();
  await assert.rejects(() => storage.load(KEY_A), /closed/);
});
