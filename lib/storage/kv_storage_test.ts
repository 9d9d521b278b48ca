import assert from "node:assert/strict";
import { Repo } from "../mod.ts";
import { KvStorage, openKvStorage } from "./kv_storage.deno.ts";
import { loadInto, StorageError } from "./mod.ts";
import {
  buildRanges,
  concat,
  continueRanges,
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
    // A stale offset with other bytes is refused; the same bytes are done.
    const loser = winner === mine ? theirs : mine;
    await assert.rejects(
      () => b.append(KEY_A, 0, loser[0].chunks),
      /differs from the stored bytes/,
    );
    await b.append(KEY_A, 0, winner[0].chunks);
    assert.deepStrictEqual(await b.load(KEY_A), winner[0].chunks);
    await a.close();
    await b.close();
  });
});

Deno.test("kv storage: appends are idempotent — a range already stored by another writer resolves as done, a partly stored one adds only the rest", async () => {
  await withKvFile(async (path) => {
    const ranges = buildRanges(6, 4);
    const a = await openKvStorage(path, { maxPieceBytes: 100 });
    const b = await openKvStorage(path, { maxPieceBytes: 100 });
    for (const range of ranges.slice(0, 4)) {
      await a.append(KEY_A, range.offset, range.chunks);
    }
    // b saw the same ranges (say, through a broadcast) and persists them too.
    for (const range of ranges.slice(0, 4)) {
      await b.append(KEY_A, range.offset, range.chunks);
    }
    // One range spanning stored and new bytes: only the new part is added.
    const spanning = [...ranges[3].chunks, ...ranges[4].chunks];
    await b.append(KEY_A, ranges[3].offset, spanning);
    await a.append(KEY_A, ranges[5].offset, ranges[5].chunks);
    assert.deepStrictEqual(await b.load(KEY_A), allChunks(ranges));
    // A differing overlap is a fork: refused, nothing changes.
    const other = buildRanges(6, 9);
    await assert.rejects(
      () => b.append(KEY_A, 0, other[0].chunks),
      /differs from the stored bytes at \d+/,
    );
    assert.deepStrictEqual(await a.load(KEY_A), allChunks(ranges));
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

/** Every piece key of `key` in `kv` (both namespaces), as [namespace, ...rest]. */
async function pieceKeys(kv: Deno.Kv, key: string): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for (const namespace of ["repo", "gen"]) {
    for await (
      const entry of kv.list({ prefix: ["streamo", namespace, key] })
    ) {
      out.push(entry.key.slice(1));
    }
  }
  return out;
}

/** The stream bytes of `key` as the pieces hold them, for garbage checks. */
async function pieceBytes(kv: Deno.Kv, key: string): Promise<number> {
  let n = 0;
  for (const namespace of ["repo", "gen"]) {
    for await (
      const entry of kv.list<Uint8Array>({
        prefix: ["streamo", namespace, key],
      })
    ) n += entry.value.length;
  }
  return n;
}

Deno.test("kv storage: replace swaps the tail after a signed range (in place, also cutting a piece at the offset); it reloads byte-identical and appends continue", async () => {
  await withKvFile(async (path) => {
    const ranges = buildRanges(6);
    const storage = await openKvStorage(path);
    // One append of three signed ranges: one piece that the offset cuts.
    await storage.append(KEY_A, 0, allChunks(ranges.slice(0, 3)));
    for (const range of ranges.slice(3)) {
      await storage.append(KEY_A, range.offset, range.chunks);
    }
    const kept = allChunks(ranges.slice(0, 2));
    const theirs = continueRanges(kept, 3, 42);
    await storage.replace(KEY_A, ranges[2].offset, allChunks(theirs));
    const expected = [...kept, ...allChunks(theirs)];
    assert.deepStrictEqual(await storage.load(KEY_A), expected);
    const more = continueRanges(expected, 1, 43)[0];
    await storage.append(KEY_A, more.offset, more.chunks);
    await assert.rejects(
      () => storage.append(KEY_A, bytesOf(ranges), theirs[0].chunks),
      RangeError,
    );
    await storage.close();

    const again = await openKvStorage(path);
    const all = [...expected, ...more.chunks];
    assert.deepStrictEqual(await again.load(KEY_A), all);
    assert.deepStrictEqual(await again.keys(), [KEY_A]);
    // No piece of the old tail is left behind.
    assert.equal(await pieceBytes(again.kv, KEY_A), concat(all).length);
    const repo = new Repo();
    assert.equal(loadInto(repo, all).byteLength, concat(all).length);
    await again.close();
  });
});

Deno.test("kv storage: replace with an empty range truncates (at 0 the key is no longer listed); offsets that are beyond the stored length, inside a chunk or not after a SIGNATURE are RangeErrors and change nothing", async () => {
  const storage = await openKvStorage(":memory:");
  const ranges = buildRanges(5);
  await storage.append(KEY_A, 0, allChunks(ranges.slice(0, 3)));
  await storage.append(KEY_A, ranges[3].offset, allChunks(ranges.slice(3)));
  const stored = bytesOf(ranges);
  const replacement = continueRanges([], 1, 5)[0].chunks;
  const cases: [number, RegExp][] = [
    [stored + 69, new RegExp(`only ${stored} bytes are stored`)],
    [ranges[1].offset + 1, /inside a chunk/],
    [ranges[1].offset + ranges[1].chunks[0].length, /not a SIGNATURE/],
    [-3, /non-negative integer/],
  ];
  for (const [offset, reason] of cases) {
    await assert.rejects(
      () => storage.replace(KEY_A, offset, replacement),
      (error: Error) => {
        assert.ok(error instanceof RangeError, String(error));
        assert.match(error.message, reason);
        return true;
      },
    );
  }
  await assert.rejects(
    () => storage.replace(KEY_A, 0, replacement.slice(0, -1)),
    /does not end with a SIGNATURE/,
  );
  await assert.rejects(() => storage.replace("nope", 0, []), TypeError);
  assert.deepStrictEqual(await storage.load(KEY_A), allChunks(ranges));

  await storage.replace(KEY_A, ranges[2].offset, []);
  assert.deepStrictEqual(
    await storage.load(KEY_A),
    allChunks(ranges.slice(0, 2)),
  );
  await storage.append(KEY_A, ranges[2].offset, ranges[2].chunks);
  assert.deepStrictEqual(
    await storage.load(KEY_A),
    allChunks(ranges.slice(0, 3)),
  );
  await storage.replace(KEY_A, 0, []);
  assert.deepStrictEqual(await storage.load(KEY_A), []);
  assert.deepStrictEqual(await storage.keys(), []);
  assert.deepStrictEqual(await pieceKeys(storage.kv, KEY_A), []);
  await storage.append(KEY_A, 0, ranges[0].chunks);
  assert.deepStrictEqual(await storage.load(KEY_A), ranges[0].chunks);
  await storage.close();
});

Deno.test("kv storage: a replace too big for one atomic operation goes to a fresh generation named by the length entry; old pieces are swept and appends and later replaces continue", async () => {
  const kv = await Deno.openKv(":memory:");
  const storage = new KvStorage(kv, { maxPieceBytes: 100 });
  const ranges = buildRanges(4);
  for (const range of ranges) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  const kept = allChunks(ranges.slice(0, 2));
  // Over 1,000 pieces: more than one atomic operation holds.
  const big = new RangeBuilder(kept).next({
    blob: randomBytes(prng(8), 60_000),
  });
  assert.ok(bytesOf([big]) / 100 > 1000);
  await storage.replace(KEY_A, ranges[2].offset, big.chunks);
  const expected = [...kept, ...big.chunks];
  assert.deepStrictEqual(await storage.load(KEY_A), expected);
  const layout = (await kv.get<{ segments: [number, unknown][] }>([
    "streamo",
    "length",
    KEY_A,
  ])).value!;
  assert.equal(layout.segments.length, 2);
  assert.equal(layout.segments[1][0], ranges[2].offset);
  assert.equal(await pieceBytes(kv, KEY_A), concat(expected).length);

  // Appends go to the new generation, also after a restart.
  const more = continueRanges(expected, 2, 3);
  await storage.append(KEY_A, more[0].offset, more[0].chunks);
  const restarted = new KvStorage(kv, { maxPieceBytes: 100 });
  await restarted.append(KEY_A, more[1].offset, more[1].chunks);
  const all = [...expected, ...allChunks(more)];
  assert.deepStrictEqual(await restarted.load(KEY_A), all);
  assert.deepStrictEqual(await restarted.keys(), [KEY_A]);
  // A replace inside the first segment (in place) drops the second one,
  // and its generation is swept.
  const theirs = continueRanges(ranges[0].chunks, 2, 4);
  await restarted.replace(KEY_A, ranges[1].offset, allChunks(theirs));
  const final = [...ranges[0].chunks, ...allChunks(theirs)];
  assert.deepStrictEqual(await restarted.load(KEY_A), final);
  assert.equal(await pieceBytes(kv, KEY_A), concat(final).length);
  assert.ok(
    (await pieceKeys(kv, KEY_A)).every((k) => k[0] === "repo"),
    "only the repo namespace is left",
  );
  await storage.close();
  await restarted.close();
  kv.close();
});

/**
 * `kv` with its atomic commits failing from the `failAt`th on, as a crash
 * at that point would leave things (that commit does not happen);
 * `commits()` counts the attempts.
 */
function crashingKv(
  kv: Deno.Kv,
  failAt: number,
): { kv: Deno.Kv; commits: () => number } {
  let commits = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            if (++commits >= failAt) {
              return Promise.reject(new Error("simulated crash"));
            }
            return commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxy, commits: () => commits };
}

Deno.test("kv storage: a crash at any point of a replace (in one operation or several, or a truncation) leaves the old stream or the new one, and redoing it leaves no garbage", async () => {
  const ranges = buildRanges(5);
  const kept = allChunks(ranges.slice(0, 3));
  const big = new RangeBuilder(kept).next({
    blob: randomBytes(prng(7), 60_000),
  });
  const cases = [
    { name: "in place", chunks: allChunks(continueRanges(kept, 2, 6)) },
    { name: "several operations", chunks: big.chunks },
    { name: "truncate", chunks: [] },
  ];
  const old = allChunks(ranges);
  for (const { name, chunks } of cases) {
    const replaced = [...kept, ...chunks];
    const seen = new Set<string>();
    for (let failAt = 1;; failAt++) {
      const kv = await Deno.openKv(":memory:");
      const setup = new KvStorage(kv, { maxPieceBytes: 100 });
      for (const range of ranges) {
        await setup.append(KEY_A, range.offset, range.chunks);
      }
      await setup.close();
      const crashing = crashingKv(kv, failAt);
      const driver = new KvStorage(crashing.kv, { maxPieceBytes: 100 });
      const crashed = await driver.replace(KEY_A, ranges[3].offset, chunks)
        .then(() => false, () => true);
      await driver.close();
      // What a restart finds.
      const restarted = new KvStorage(kv, { maxPieceBytes: 100 });
      const loaded = await restarted.load(KEY_A);
      if (loaded.length === old.length) {
        assert.deepStrictEqual(loaded, old, `${name}, crash at ${failAt}`);
        seen.add("old");
      } else {
        assert.deepStrictEqual(loaded, replaced, `${name}, crash at ${failAt}`);
        seen.add("new");
      }
      // The rebase is redone after the restart: it completes and leaves
      // no piece the stream does not use.
      await restarted.replace(KEY_A, ranges[3].offset, chunks);
      assert.deepStrictEqual(await restarted.load(KEY_A), replaced);
      assert.equal(
        await pieceBytes(kv, KEY_A),
        concat(replaced).length,
        `${name}, crash at ${failAt}: garbage left`,
      );
      await restarted.close();
      kv.close();
      if (!crashed) {
        if (name === "several operations") {
          assert.ok(crashing.commits() > 2, "written in several operations");
        }
        break;
      }
    }
    assert.deepStrictEqual([...seen].sort(), ["new", "old"], name);
  }
});

Deno.test("kv storage: a load whose reads straddle another writer's replace starts over and returns the new stream, not a mix", async () => {
  const kv = await Deno.openKv(":memory:");
  const writer = new KvStorage(kv, { maxPieceBytes: 100 });
  const ranges = buildRanges(3);
  const blob = new RangeBuilder(allChunks(ranges)).next({
    blob: randomBytes(prng(2), 60_000),
  });
  for (const range of [...ranges, blob]) {
    await writer.append(KEY_A, range.offset, range.chunks);
  }
  // A different tail from ranges[1] on: pieces listed before the replace
  // and after it would mix the two.
  const kept = ranges[0].chunks;
  const theirs = continueRanges(kept, 1, 77);
  const theirBlob = new RangeBuilder([...kept, ...theirs[0].chunks]).next({
    blob: randomBytes(prng(3), 60_000),
  });
  const replacement = [...theirs[0].chunks, ...theirBlob.chunks];
  // The reader's listing pauses after its first batch of pieces while the
  // writer replaces the tail (in one operation).
  let listed = 0;
  const pausing = new Proxy(kv, {
    get(target, prop) {
      if (prop === "list") {
        return (
          selector: Deno.KvListSelector,
          options?: Deno.KvListOptions,
        ) => {
          const inner = target.list(selector, options);
          return (async function* () {
            for await (const entry of inner) {
              if (++listed === 600) {
                await writer.replace(KEY_A, ranges[1].offset, replacement);
              }
              yield entry;
            }
          })();
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const reader = new KvStorage(pausing, { maxPieceBytes: 100 });
  const loaded = await reader.load(KEY_A);
  assert.ok(listed > 600, "the replace ran during the load");
  assert.deepStrictEqual(loaded, [...kept, ...replacement]);
  await reader.close();
  await writer.close();
  kv.close();
});
