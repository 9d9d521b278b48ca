import assert from "node:assert/strict";
import { encodeFrames, hexToBytes, Repo, Streamo } from "../mod.ts";
import {
  FileStorage,
  openFileStorage,
  readArchiveFile,
} from "./file_storage.deno.ts";
import { loadInto, type RecoveryEvent, StorageError } from "./mod.ts";
import {
  buildRanges,
  concat,
  continueRanges,
  KEY_A,
  KEY_B,
  KEY_C,
  type TestRange,
} from "../../tests/support/storage_data.ts";
import { loadVectors, untag } from "../../tests/support/vectors.ts";
import { testVerifier } from "../../tests/support/storage_verify.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "streamo-storage-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function allChunks(ranges: TestRange[]): Uint8Array[] {
  return ranges.flatMap((range) => range.chunks);
}

async function appendAll(
  storage: FileStorage,
  key: string,
  ranges: TestRange[],
): Promise<void> {
  for (const range of ranges) {
    await storage.append(key, range.offset, range.chunks);
  }
}

Deno.test("file storage: chunks appended, closed and reopened load back byte-identical", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(20);
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges);
    await storage.close();

    const again = new FileStorage(dir);
    const loaded = await again.load(KEY_A);
    await again.close();
    assert.deepStrictEqual(loaded, allChunks(ranges));
  });
});

Deno.test("file storage: the archive is a plain frame sequence [u32 LE length][chunk]", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(5);
    const storage = new FileStorage(dir, { durability: "always" });
    await appendAll(storage, KEY_A, ranges);
    await storage.close();
    const bytes = await Deno.readFile(`${dir}/${KEY_A}.bin`);
    assert.deepStrictEqual(bytes, encodeFrames(allChunks(ranges)));
    // Decode by hand: every frame's length prefix is little-endian.
    const view = new DataView(bytes.buffer);
    let at = 0;
    const chunks: Uint8Array[] = [];
    while (at < bytes.length) {
      const length = view.getUint32(at, true);
      chunks.push(bytes.slice(at + 4, at + 4 + length));
      at += 4 + length;
    }
    assert.deepStrictEqual(chunks, allChunks(ranges));
  });
});

Deno.test("file storage: a reference node's archive (the vectors' wire frames) loads, and verifies as a foreign import", async () => {
  const vectors = await loadVectors();
  await withDir(async (dir) => {
    for (const c of vectors.repos) {
      const archive = concat(c.wireFrames.map(hexToBytes));
      const path = `${dir}/${c.publicKey}.bin`;
      await Deno.writeFile(path, archive);

      // Through the driver (a file in our data dir).
      const storage = new FileStorage(dir);
      const chunks = await storage.load(c.publicKey);
      await storage.close();
      const repo = new Repo({ key: c.publicKey });
      loadInto(repo, chunks);
      assert.equal(repo.byteLength, hexToBytes(c.stream).length);
      assert.deepStrictEqual(repo.get(), untag(c.steps.at(-1)!.value));
      assert.equal(repo.signedLength, repo.byteLength);

      // As a foreign archive: read-only, every signature checked.
      const scan = await readArchiveFile(path);
      assert.equal(scan.tail, undefined);
      assert.equal(scan.error, undefined);
      const foreign = new Repo({ key: c.publicKey });
      loadInto(foreign, scan.chunks, {
        trust: "foreign",
        verify: testVerifier(foreign, c.publicKey),
        source: path,
      });
      assert.deepStrictEqual(foreign.slice(), hexToBytes(c.stream));
      assert.deepStrictEqual(await Deno.readFile(path), archive);
    }
  });
});

Deno.test("file storage: concurrent appends to several repos each land in order", async () => {
  await withDir(async (dir) => {
    const keys = [KEY_A, KEY_B, KEY_C];
    const streams = keys.map((_, i) => buildRanges(30, i + 7));
    const storage = new FileStorage(dir, { maxOpenFiles: 2 });
    // Issue every append at once: per key they run in call order.
    await Promise.all(
      keys.flatMap((key, i) =>
        streams[i].map((range) =>
          storage.append(key, range.offset, range.chunks)
        )
      ),
    );
    assert.deepStrictEqual(await storage.keys(), [...keys].sort());
    await storage.close();
    const again = new FileStorage(dir);
    for (const [i, key] of keys.entries()) {
      assert.deepStrictEqual(await again.load(key), allChunks(streams[i]));
    }
    await again.close();
  });
});

Deno.test("file storage: an append must start where the stored bytes end (RangeError), and the file is unchanged", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(3);
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges.slice(0, 2));
    const before = await Deno.readFile(`${dir}/${KEY_A}.bin`);
    await assert.rejects(
      () => storage.append(KEY_A, ranges[2].offset + 1, ranges[2].chunks),
      (error: Error) =>
        error instanceof RangeError && /bytes are stored/.test(error.message),
    );
    await assert.rejects(
      () => storage.append(KEY_A, 0, ranges[0].chunks),
      RangeError,
    );
    await storage.flush();
    assert.deepStrictEqual(await Deno.readFile(`${dir}/${KEY_A}.bin`), before);
    // A driver that did not load first finds the length from the file.
    await storage.close();
    const fresh = new FileStorage(dir);
    await fresh.append(KEY_A, ranges[2].offset, ranges[2].chunks);
    assert.deepStrictEqual(await fresh.load(KEY_A), allChunks(ranges));
    await fresh.close();
  });
});

Deno.test("file storage: bad keys are TypeErrors; ranges that are empty, unsigned or malformed are refused", async () => {
  await withDir(async (dir) => {
    const [range] = buildRanges(1);
    const storage = new FileStorage(dir);
    for (
      const key of ["", "02" + "A1".repeat(32), "04" + "a1".repeat(32), "02ab"]
    ) {
      await assert.rejects(
        () => storage.append(key, 0, range.chunks),
        TypeError,
      );
      await assert.rejects(() => storage.load(key), TypeError);
    }
    await assert.rejects(() => storage.append(KEY_A, 0, []), RangeError);
    await assert.rejects(
      () => storage.append(KEY_A, 0, range.chunks.slice(0, -1)),
      /does not end with a SIGNATURE/,
    );
    const bad = range.chunks.map((chunk) => chunk.slice());
    bad[0] = new Uint8Array([...bad[0], 0x15]);
    await assert.rejects(() => storage.append(KEY_A, 0, bad), SyntaxError);
    await assert.rejects(
      () => storage.append(KEY_A, -1, range.chunks),
      RangeError,
    );
    assert.deepStrictEqual(await storage.keys(), []);
    await storage.close();
    await assert.rejects(() => storage.load(KEY_A), /closed/);
  });
});

Deno.test("file storage: a missing data directory is created on first write", async () => {
  await withDir(async (dir) => {
    const nested = `${dir}/a/b/c`;
    const [range] = buildRanges(1);
    const storage = new FileStorage(nested);
    assert.deepStrictEqual(await storage.keys(), []);
    assert.deepStrictEqual(await storage.load(KEY_A), []);
    await storage.append(KEY_A, 0, range.chunks);
    await storage.close();
    assert.ok((await Deno.stat(`${nested}/${KEY_A}.bin`)).isFile);
    const opened = await openFileStorage(`${dir}/other`);
    assert.ok((await Deno.stat(`${dir}/other`)).isDirectory);
    await opened.close();
  });
});

async function tornCase(
  mutate: (path: string, bytes: Uint8Array) => Promise<void>,
  reason: RegExp,
): Promise<void> {
  await withDir(async (dir) => {
    const ranges = buildRanges(6);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges.slice(0, 5));
    await storage.close();
    const good = await Deno.readFile(path);
    await mutate(path, good);
    const size = (await Deno.stat(path)).size;

    const events: RecoveryEvent[] = [];
    const again = new FileStorage(dir, { onRecover: (e) => events.push(e) });
    const loaded = await again.load(KEY_A);
    const expected = allChunks(ranges.slice(0, 5));
    assert.deepStrictEqual(loaded, expected);
    assert.equal(events.length, 1);
    assert.equal(events[0].key, KEY_A);
    assert.equal(events[0].file, path);
    assert.equal(events[0].validBytes, good.length);
    assert.equal(events[0].droppedBytes, size - good.length);
    assert.match(events[0].reason, reason);
    // Truncated to the valid prefix only; later appends continue cleanly.
    assert.deepStrictEqual(await Deno.readFile(path), good);
    await again.append(KEY_A, ranges[5].offset, ranges[5].chunks);
    await again.close();
    assert.deepStrictEqual(
      await Deno.readFile(path),
      encodeFrames(allChunks(ranges)),
    );
  });
}

Deno.test("file storage: a frame cut mid-way (torn tail) is cut back to the last signature and reported", async () => {
  const sixth = buildRanges(6)[5];
  await tornCase(async (path) => {
    const frames = encodeFrames(sixth.chunks);
    const file = await Deno.open(path, { append: true });
    await file.write(frames.subarray(0, frames.length - 30));
    file.close();
  }, /partial frame/);
});

Deno.test("file storage: a partial frame header at the end is a torn tail", async () => {
  await tornCase(async (path) => {
    const file = await Deno.open(path, { append: true });
    await file.write(new Uint8Array([5, 0]));
    file.close();
  }, /partial frame header/);
});

Deno.test("file storage: complete chunks with no SIGNATURE after them are a torn tail", async () => {
  const sixth = buildRanges(6)[5];
  await tornCase(async (path) => {
    const file = await Deno.open(path, { append: true });
    await file.write(encodeFrames(sixth.chunks.slice(0, -1)));
    file.close();
  }, /no SIGNATURE after them/);
});

Deno.test("file storage: garbage after the last signature is a torn tail", async () => {
  await tornCase(async (path) => {
    const garbage = new Uint8Array(300).map((_, i) => (i * 97 + 13) & 0xff);
    const file = await Deno.open(path, { append: true });
    await file.write(garbage);
    file.close();
  }, /frame at byte \d+/);
});

Deno.test("file storage: zeros after the last signature (a file extended before its data landed) are a torn tail", async () => {
  await tornCase(async (path, good) => {
    await Deno.truncate(path, good.length + 4096);
  }, /frame length 0/);
});

async function damagedCase(
  damage: (bytes: Uint8Array) => number,
  reason: RegExp,
): Promise<void> {
  await withDir(async (dir) => {
    const ranges = buildRanges(8);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges);
    await storage.close();
    const bytes = await Deno.readFile(path);
    const offset = damage(bytes);
    await Deno.writeFile(path, bytes);

    const events: RecoveryEvent[] = [];
    const again = new FileStorage(dir, { onRecover: (e) => events.push(e) });
    let error: unknown;
    try {
      await again.load(KEY_A);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof StorageError, String(error));
    assert.equal(error.name, "StorageError");
    assert.equal(error.source, path);
    assert.equal(error.offset, offset);
    assert.ok(error.message.includes(path), error.message);
    assert.ok(error.message.includes(`byte ${offset}`), error.message);
    assert.match(error.message, reason);
    // The readable prefix: whole signed ranges before the damage.
    const prefix = ranges.filter((range) =>
      encodeFrames(allChunks(ranges.slice(0, ranges.indexOf(range) + 1)))
        .length <= offset
    );
    assert.deepStrictEqual(error.chunks, allChunks(prefix));
    assert.equal(error.validBytes, encodeFrames(allChunks(prefix)).length);
    const copy = new Streamo();
    loadInto(copy, error.chunks);
    // Nothing changed on disk, nothing reported as recovery, appends refused.
    assert.deepStrictEqual(await Deno.readFile(path), bytes);
    assert.equal(events.length, 0);
    await assert.rejects(
      () => again.append(KEY_A, ranges[7].offset, ranges[7].chunks),
      StorageError,
    );

    // salvage: the whole file is copied aside, the archive keeps the prefix.
    const salvaged = await again.salvage(KEY_A);
    assert.deepStrictEqual(salvaged.chunks, error.chunks);
    assert.ok(salvaged.movedTo);
    assert.deepStrictEqual(await Deno.readFile(salvaged.movedTo), bytes);
    assert.equal(events.length, 1);
    assert.equal(events[0].validBytes, error.validBytes);
    const next = ranges[prefix.length];
    await again.append(KEY_A, next.offset, next.chunks);
    assert.deepStrictEqual(
      await again.load(KEY_A),
      allChunks(ranges.slice(0, prefix.length + 1)),
    );
    await again.close();
  });
}

/** File offset of the `n`th frame's header. */
function frameStart(bytes: Uint8Array, n: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let at = 0;
  for (let i = 0; i < n; i++) at += 4 + view.getUint32(at, true);
  return at;
}

Deno.test("file storage: a bit-flipped frame length inside signed data is a StorageError naming the file and offset", async () => {
  await damagedCase((bytes) => {
    const at = frameStart(bytes, 40);
    bytes[at + 2] ^= 0x10; // length becomes > 1 MiB
    return at;
  }, /above the limit/);
});

Deno.test("file storage: a zero frame length inside signed data is a StorageError", async () => {
  await damagedCase((bytes) => {
    const at = frameStart(bytes, 25);
    bytes.fill(0, at, at + 4);
    return at;
  }, /frame length 0/);
});

Deno.test("file storage: a bit-flipped footer inside signed data is a StorageError naming the file and offset", async () => {
  await damagedCase((bytes) => {
    // Find a multi-byte chunk whose footer flip changes its width.
    for (let n = 30;; n++) {
      const at = frameStart(bytes, n);
      const length = new DataView(bytes.buffer).getUint32(at, true);
      if (length < 3 || length > 9) continue;
      const footer = at + 4 + length - 1;
      bytes[footer] = 0x15; // UINT7 1: one byte wide
      return at;
    }
  }, /footer/);
});

Deno.test("file storage: an address pointing into a chunk is a StorageError", async () => {
  await damagedCase((bytes) => {
    // The first chunk is longer than one byte, so address 0 is inside it.
    assert.ok(new DataView(bytes.buffer).getUint32(0, true) > 1);
    // A DUPLE whose right part is an address: point it at address 0.
    for (let n = 30;; n++) {
      const at = frameStart(bytes, n);
      const length = new DataView(bytes.buffer).getUint32(at, true);
      const footer = bytes[at + 4 + length - 1];
      const right = (footer - 162) % 5;
      if (footer < 162 || footer > 186 || right === 0) continue;
      const end = at + 4 + length - 1;
      bytes.fill(0, end - right, end);
      return at;
    }
  }, /references address/);
});

Deno.test("file storage: interval durability fsyncs on its timer, on flush and on close", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(4);
    const storage = new FileStorage(dir, { syncInterval: 5 });
    await appendAll(storage, KEY_A, ranges.slice(0, 2));
    // Let the timer run an fsync; then more appends and an explicit flush.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await appendAll(storage, KEY_A, ranges.slice(2));
    await storage.flush();
    await storage.close();
    await storage.close(); // idempotent
    const again = new FileStorage(dir, { durability: "always" });
    assert.deepStrictEqual(await again.load(KEY_A), allChunks(ranges));
    await again.close();
  });
});

Deno.test("file storage: options are checked", () => {
  assert.throws(() => new FileStorage(""), TypeError);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new FileStorage("x", { durability: "never" as any }),
    TypeError,
  );
  assert.throws(() => new FileStorage("x", { syncInterval: -1 }), RangeError);
  assert.throws(() => new FileStorage("x", { maxOpenFiles: 0 }), RangeError);
});

Deno.test("file storage: replace swaps the tail after a signed range; the archive reloads byte-identical and appends continue at the new length", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(6);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges);
    const kept = allChunks(ranges.slice(0, 3));
    const theirs = continueRanges(kept, 4, 42);
    await storage.replace(KEY_A, ranges[3].offset, allChunks(theirs));
    const expected = [...kept, ...allChunks(theirs)];
    assert.deepStrictEqual(await storage.load(KEY_A), expected);
    assert.deepStrictEqual(await Deno.readFile(path), encodeFrames(expected));
    assert.equal(await Deno.stat(`${path}.tmp`).catch(() => null), null);

    // Appends continue where the replacement ends (with the same driver,
    // whose append handle pointed at the replaced file).
    const more = continueRanges(expected, 1, 43)[0];
    assert.equal(more.offset, concat(expected).length);
    await storage.append(KEY_A, more.offset, more.chunks);
    await assert.rejects(
      () => storage.append(KEY_A, ranges[5].offset, ranges[5].chunks),
      /bytes are stored/,
    );
    await storage.close();
    const again = new FileStorage(dir);
    assert.deepStrictEqual(await again.load(KEY_A), [
      ...expected,
      ...more.chunks,
    ]);
    const copy = new Streamo();
    assert.equal(
      loadInto(copy, await again.load(KEY_A)).byteLength,
      more.offset + concat(more.chunks).length,
    );
    await again.close();
  });
});

Deno.test("file storage: replace with an empty range truncates to the offset; at 0 the archive is empty and its key is not listed", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(5);
    const storage = new FileStorage(dir, { durability: "always" });
    await appendAll(storage, KEY_A, ranges);
    await storage.replace(KEY_A, ranges[2].offset, []);
    assert.deepStrictEqual(
      await storage.load(KEY_A),
      allChunks(ranges.slice(0, 2)),
    );
    // Truncating at the stored length changes nothing.
    await storage.replace(KEY_A, ranges[2].offset, []);
    await storage.append(KEY_A, ranges[2].offset, ranges[2].chunks);
    assert.deepStrictEqual(
      await storage.load(KEY_A),
      allChunks(ranges.slice(0, 3)),
    );
    await storage.replace(KEY_A, 0, []);
    assert.deepStrictEqual(await storage.load(KEY_A), []);
    assert.deepStrictEqual(await storage.keys(), []);
    // A replace at 0 of an empty or missing archive writes it whole.
    await storage.replace(KEY_A, 0, allChunks(ranges.slice(0, 2)));
    await storage.replace(KEY_B, 0, ranges[0].chunks);
    await storage.close();
    const again = new FileStorage(dir);
    assert.deepStrictEqual(
      await again.load(KEY_A),
      allChunks(ranges.slice(0, 2)),
    );
    assert.deepStrictEqual(await again.load(KEY_B), ranges[0].chunks);
    await again.close();
  });
});

Deno.test("file storage: replace offsets beyond the stored length, inside a chunk or not after a SIGNATURE are RangeErrors naming the reason, and the file is unchanged", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(4);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges);
    await storage.flush();
    const before = await Deno.readFile(path);
    const stored = concat(allChunks(ranges)).length;
    const replacement = continueRanges([], 1, 5)[0].chunks;
    const cases: [number, RegExp][] = [
      [stored + 69, new RegExp(`only ${stored} bytes are stored`)],
      [ranges[2].offset + 1, /inside a chunk/],
      // The end of the range's first chunk: a boundary, not a signature.
      [ranges[2].offset + ranges[2].chunks[0].length, /not a SIGNATURE/],
      [-1, /non-negative integer/],
      [1.5, /non-negative integer/],
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
      // deno-lint-ignore no-explicit-any
      () => storage.replace(KEY_A, 0, "nope" as any),
      TypeError,
    );
    await assert.rejects(
      () => storage.replace(KEY_A, 0, replacement.slice(0, -1)),
      /does not end with a SIGNATURE/,
    );
    await assert.rejects(
      () => storage.replace("02ab", 0, replacement),
      TypeError,
    );
    assert.deepStrictEqual(await Deno.readFile(path), before);
    assert.deepStrictEqual(await storage.load(KEY_A), allChunks(ranges));
    await storage.close();
  });
});

Deno.test("file storage: replaces run in call order with appends, across keys, with few open files", async () => {
  await withDir(async (dir) => {
    const keys = [KEY_A, KEY_B, KEY_C];
    const storage = new FileStorage(dir, { maxOpenFiles: 1 });
    const expected = new Map<string, Uint8Array[]>();
    const ops: Promise<void>[] = [];
    for (const [i, key] of keys.entries()) {
      const ranges = buildRanges(4, i + 20);
      const kept = allChunks(ranges.slice(0, 2));
      const theirs = continueRanges(kept, 2, i + 30);
      const after = continueRanges([...kept, ...allChunks(theirs)], 1, i + 40);
      // Issued at once, not awaited: per key they run in call order.
      for (const range of ranges) {
        ops.push(storage.append(key, range.offset, range.chunks));
      }
      ops.push(storage.replace(key, ranges[2].offset, allChunks(theirs)));
      ops.push(storage.append(key, after[0].offset, after[0].chunks));
      expected.set(key, [...kept, ...allChunks(theirs), ...after[0].chunks]);
    }
    await Promise.all(ops);
    await storage.close();
    const again = new FileStorage(dir);
    for (const key of keys) {
      assert.deepStrictEqual(await again.load(key), expected.get(key));
    }
    await again.close();
  });
});

Deno.test("file storage: a temp file left by a replace interrupted before its rename is never loaded, and is removed", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(3);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges);
    await storage.close();
    // What a crash before the rename leaves: a half-written new archive.
    const theirs = continueRanges(allChunks(ranges.slice(0, 1)), 3, 9);
    const half = encodeFrames(allChunks(theirs));
    await Deno.writeFile(`${path}.tmp`, half.subarray(0, half.length >> 1));

    const again = new FileStorage(dir);
    assert.deepStrictEqual(await again.keys(), [KEY_A]);
    assert.deepStrictEqual(await again.load(KEY_A), allChunks(ranges));
    assert.equal(await Deno.stat(`${path}.tmp`).catch(() => null), null);
    // The replace goes through afterwards.
    await again.replace(KEY_A, ranges[1].offset, allChunks(theirs));
    assert.deepStrictEqual(await again.load(KEY_A), [
      ...ranges[0].chunks,
      ...allChunks(theirs),
    ]);
    await again.close();
  });
});

Deno.test("file storage: replace cuts a torn tail first and reports it, like load", async () => {
  await withDir(async (dir) => {
    const ranges = buildRanges(4);
    const path = `${dir}/${KEY_A}.bin`;
    const storage = new FileStorage(dir);
    await appendAll(storage, KEY_A, ranges.slice(0, 3));
    await storage.close();
    const torn = encodeFrames(ranges[3].chunks);
    const file = await Deno.open(path, { append: true });
    await file.write(torn.subarray(0, torn.length - 10));
    file.close();

    const events: RecoveryEvent[] = [];
    const again = new FileStorage(dir, { onRecover: (e) => events.push(e) });
    // The torn range is not stored: an offset past the signed bytes fails.
    await assert.rejects(
      () => again.replace(KEY_A, ranges[3].offset + 10, []),
      /bytes are stored/,
    );
    assert.equal(events.length, 1);
    const theirs = continueRanges(allChunks(ranges.slice(0, 2)), 2, 11);
    await again.replace(KEY_A, ranges[2].offset, allChunks(theirs));
    await again.close();
    assert.deepStrictEqual(
      await Deno.readFile(path),
      encodeFrames([...allChunks(ranges.slice(0, 2)), ...allChunks(theirs)]),
    );
  });
});
