// LOGIC-ONLY: these tests run the IndexedDB driver against fake-indexeddb,
// an in-memory implementation of the IndexedDB API, to check the driver's
// logic (layout, offsets, atomicity, errors). They say nothing about real
// browsers' durability or quotas: the real test runs in Chromium.
import assert from "node:assert/strict";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import {
  type IdbDatabaseLike,
  type IdbFactoryLike,
  type IdbKeyRangeLike,
  IdbStorage,
  type IdbStorageOptions,
  openIdbStorage,
} from "./idb_storage.browser.ts";
import { StorageError } from "./mod.ts";
import {
  buildRanges,
  continueRanges,
  KEY_A,
  KEY_B,
  prng,
  randomBytes,
  RangeBuilder,
} from "../../tests/support/storage_data.ts";

function fakeOptions(): IdbStorageOptions {
  return {
    indexedDB: new IDBFactory() as unknown as IdbFactoryLike,
    IDBKeyRange: IDBKeyRange as unknown as IdbKeyRangeLike,
  };
}

Deno.test("indexeddb (logic-only, fake-indexeddb): ranges round-trip across reconnects, keys are listed", async () => {
  const options = fakeOptions();
  const ranges = buildRanges(12);
  const storage = await openIdbStorage("streamo-test", options);
  for (const range of ranges) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  await storage.append(KEY_B, 0, ranges[0].chunks);
  await storage.close();
  const again = await openIdbStorage("streamo-test", options);
  assert.deepStrictEqual(
    await again.load(KEY_A),
    ranges.flatMap((range) => range.chunks),
  );
  assert.deepStrictEqual(await again.load(KEY_B), ranges[0].chunks);
  assert.deepStrictEqual(await again.keys(), [KEY_A, KEY_B]);
  assert.deepStrictEqual(await again.load("02" + "00".repeat(32)), []);
  await again.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): a large range is split into pieces and stays atomic", async () => {
  const range = new RangeBuilder().next({
    blob: randomBytes(prng(9), 20_000),
  });
  const storage = await openIdbStorage("big", {
    ...fakeOptions(),
    maxPieceBytes: 4096,
  });
  await storage.append(KEY_A, 0, range.chunks);
  assert.deepStrictEqual(await storage.load(KEY_A), range.chunks);
  await storage.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): an append at the wrong offset aborts and changes nothing", async () => {
  const ranges = buildRanges(3);
  const storage = await openIdbStorage("offsets", fakeOptions());
  await storage.append(KEY_A, 0, ranges[0].chunks);
  await assert.rejects(
    () => storage.append(KEY_A, 0, ranges[1].chunks),
    (error: Error) =>
      error instanceof RangeError && /bytes are stored/.test(error.message),
  );
  await assert.rejects(
    () => storage.append(KEY_A, ranges[2].offset, ranges[2].chunks),
    RangeError,
  );
  assert.deepStrictEqual(await storage.load(KEY_A), ranges[0].chunks);
  // Concurrent writers on one key: one wins each offset.
  const other = new IdbStorage(storage.db, fakeOptions());
  const results = await Promise.allSettled([
    storage.append(KEY_A, ranges[1].offset, ranges[1].chunks),
    other.append(KEY_A, ranges[1].offset, ranges[1].chunks),
  ]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  await other.close();
  await assert.rejects(() => storage.append("bad", 0, []), TypeError);
  await storage.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): a damaged piece is a StorageError with the readable prefix", async () => {
  const options = fakeOptions();
  const ranges = buildRanges(3);
  const storage = await openIdbStorage("damage", options);
  for (const range of ranges) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  await storage.close();
  // Overwrite the last range's piece with bytes that are not whole codes.
  const db = await new Promise<IdbDatabaseLike>((resolve, reject) => {
    const req = options.indexedDB!.open("damage", 1);
    req.onsuccess = () => resolve(req.result as unknown as IdbDatabaseLike);
    req.onerror = () => reject(req.error);
  });
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction(["ranges"], "readwrite");
    tx.objectStore("ranges").put(new Uint8Array([1, 2, 250]), [
      KEY_A,
      ranges[2].offset,
    ]);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error);
  });
  db.close();
  const again = await openIdbStorage("damage", options);
  const error = await again.load(KEY_A).then(
    () => assert.fail("load should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof StorageError, String(error));
  assert.equal(error.offset, ranges[2].offset);
  assert.deepStrictEqual(
    error.chunks,
    ranges.slice(0, 2).flatMap((r) => r.chunks),
  );
  await again.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): replace swaps the tail in one transaction (cutting the piece that holds the offset); it reloads across reconnects and appends continue", async () => {
  const options = fakeOptions();
  const ranges = buildRanges(6);
  const storage = await openIdbStorage("replace", options);
  // One append of three signed ranges: one piece that the offset cuts.
  await storage.append(KEY_A, 0, ranges.slice(0, 3).flatMap((r) => r.chunks));
  for (const range of ranges.slice(3)) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  const kept = ranges.slice(0, 2).flatMap((r) => r.chunks);
  const theirs = continueRanges(kept, 3, 42).flatMap((r) => r.chunks);
  await storage.replace(KEY_A, ranges[2].offset, theirs);
  const expected = [...kept, ...theirs];
  assert.deepStrictEqual(await storage.load(KEY_A), expected);
  const more = continueRanges(expected, 1, 43)[0];
  await storage.append(KEY_A, more.offset, more.chunks);
  await storage.close();
  const again = await openIdbStorage("replace", options);
  assert.deepStrictEqual(await again.load(KEY_A), [
    ...expected,
    ...more.chunks,
  ]);
  // Truncate, then to nothing.
  await again.replace(KEY_A, ranges[1].offset, []);
  assert.deepStrictEqual(await again.load(KEY_A), ranges[0].chunks);
  await again.replace(KEY_A, 0, []);
  assert.deepStrictEqual(await again.load(KEY_A), []);
  assert.deepStrictEqual(await again.keys(), []);
  await again.append(KEY_A, 0, ranges[0].chunks);
  assert.deepStrictEqual(await again.load(KEY_A), ranges[0].chunks);
  await again.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): replace offsets beyond the stored length, inside a chunk or not after a SIGNATURE abort with a RangeError and change nothing", async () => {
  const ranges = buildRanges(4);
  const storage = await openIdbStorage("replace-errors", fakeOptions());
  await storage.append(KEY_A, 0, ranges.slice(0, 3).flatMap((r) => r.chunks));
  await storage.append(KEY_A, ranges[3].offset, ranges[3].chunks);
  const all = ranges.flatMap((r) => r.chunks);
  const stored = all.reduce((n, c) => n + c.length, 0);
  const replacement = continueRanges([], 1, 5)[0].chunks;
  const cases: [number, RegExp][] = [
    [stored + 69, new RegExp(`only ${stored} bytes are stored`)],
    [ranges[1].offset + 1, /inside a chunk/],
    [ranges[1].offset + ranges[1].chunks[0].length, /not a SIGNATURE/],
    [-1, /non-negative integer/],
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
  await assert.rejects(() => storage.replace("bad", 0, []), TypeError);
  assert.deepStrictEqual(await storage.load(KEY_A), all);
  await storage.close();
});

Deno.test("indexeddb (logic-only, fake-indexeddb): a replace and another writer's append at the old length are serialized: the append fails or lands before the replace", async () => {
  const ranges = buildRanges(4);
  const storage = await openIdbStorage("replace-race", fakeOptions());
  for (const range of ranges.slice(0, 3)) {
    await storage.append(KEY_A, range.offset, range.chunks);
  }
  const other = new IdbStorage(storage.db, fakeOptions());
  const kept = ranges[0].chunks;
  const theirs = continueRanges(kept, 2, 8).flatMap((r) => r.chunks);
  const [appended, replaced] = await Promise.allSettled([
    other.append(KEY_A, ranges[3].offset, ranges[3].chunks),
    storage.replace(KEY_A, ranges[1].offset, theirs),
  ]);
  assert.equal(replaced.status, "fulfilled");
  assert.deepStrictEqual(await storage.load(KEY_A), [...kept, ...theirs]);
  // Whichever ran first, the appended range is gone (replaced) or was
  // refused for its stale offset — never mixed into the new tail.
  assert.ok(
    appended.status === "fulfilled" || appended.reason instanceof RangeError,
    String((appended as PromiseRejectedResult).reason),
  );
  await other.close();
  await storage.close();
});
