import assert from "node:assert/strict";
import {
  ChunkStore,
  encodeFrames,
  hexToBytes,
  Repo,
  Signer,
  Streamo,
} from "../mod.ts";
import { loadInto, parseArchive, StorageError, streamLength } from "./mod.ts";
import { buildRanges } from "../../tests/support/storage_data.ts";
import { testVerifier } from "../../tests/support/storage_verify.ts";
import { loadVectors, untag } from "../../tests/support/vectors.ts";

const vectors = await loadVectors();
const reference = vectors.repos[0];
const referenceChunks = reference.wireFrames.map((hex) =>
  hexToBytes(hex).subarray(4)
);

Deno.test("loadInto appends every signed range byte for byte into a Streamo, a ChunkStore or a Repo", () => {
  const ranges = buildRanges(10);
  const chunks = ranges.flatMap((range) => range.chunks);
  const total = streamLength(chunks);
  const streamo = new Streamo();
  assert.deepStrictEqual(loadInto(streamo, chunks), {
    byteLength: total,
    chunkCount: chunks.length,
    droppedBytes: 0,
  });
  const store = new ChunkStore();
  loadInto(store, chunks);
  assert.deepStrictEqual(store.slice(), streamo.slice());
  assert.equal(store.chunkCount, chunks.length);
});

Deno.test("loadInto gives a Repo its signed length, so its next commit signs from the right place", async () => {
  const repo = new Repo({ key: reference.publicKey });
  loadInto(repo, referenceChunks);
  const stream = hexToBytes(reference.stream);
  assert.equal(repo.byteLength, stream.length);
  assert.equal(repo.signedLength, stream.length);
  assert.ok(repo.lastSignatureStart > 0);
  assert.deepStrictEqual(repo.get(), untag(reference.steps.at(-1)!.value));
  assert.equal(repo.history().length, reference.steps.length);

  // Continue the loaded repo: its new range verifies as a continuation.
  await repo.attachSigner(
    new Signer(reference.username, reference.password, reference.iterations),
    reference.name,
  );
  repo.push("messages", { text: "after reload", at: 1 });
  await repo.whenSigned();
  const copy = new Repo({ key: reference.publicKey });
  loadInto(copy, repo.chunksBetween(0), {
    trust: "foreign",
    verify: testVerifier(copy, reference.publicKey),
  });
  assert.equal(copy.byteLength, repo.byteLength);
  assert.equal(copy.get("messages", 2, "text"), "after reload");
});

Deno.test("loadInto leaves out chunks after the last SIGNATURE and reports their bytes", () => {
  const ranges = buildRanges(3);
  const chunks = ranges.flatMap((range) => range.chunks);
  const unsigned = ranges[2].chunks.slice(0, -1);
  const target = new Streamo();
  const result = loadInto(target, [
    ...ranges[0].chunks,
    ...ranges[1].chunks,
    ...unsigned,
  ]);
  assert.equal(result.droppedBytes, streamLength(unsigned));
  assert.equal(result.byteLength, ranges[2].offset);
  assert.equal(target.byteLength, ranges[2].offset);
  assert.deepStrictEqual(
    target.slice(),
    new Uint8Array(
      chunks.slice(0, -unsigned.length - 1).flatMap((c) => [...c]),
    ),
  );
  assert.equal(loadInto(new Streamo(), unsigned).byteLength, 0);
});

Deno.test("loadInto refuses foreign chunks without a verify hook, and bad targets", () => {
  assert.throws(
    () => loadInto(new Streamo(), referenceChunks, { trust: "foreign" }),
    (error: Error) =>
      error instanceof TypeError && /verify hook/.test(error.message),
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => loadInto({} as any, referenceChunks), TypeError);
  const full = new Streamo();
  full.set(1);
  full.set({ a: 1 });
  assert.throws(() => loadInto(full, referenceChunks), RangeError);
});

Deno.test("loadInto with trust foreign verifies each signed range and keeps the verified prefix when one is rejected", () => {
  const good = new Repo({ key: reference.publicKey });
  loadInto(good, referenceChunks, {
    trust: "foreign",
    verify: testVerifier(good, reference.publicKey),
  });
  assert.deepStrictEqual(good.slice(), hexToBytes(reference.stream));

  // Tamper with the last signature's bytes.
  const tampered = referenceChunks.map((chunk) => chunk.slice());
  const last = tampered[tampered.length - 1];
  last[10] ^= 1;
  const repo = new Repo({ key: reference.publicKey });
  const seen: number[] = [];
  const verify = testVerifier(repo, reference.publicKey);
  const error = (() => {
    try {
      loadInto(repo, tampered, {
        trust: "foreign",
        verify: (range) => {
          seen.push(range.offset);
          verify(range);
        },
        source: "reference.bin",
      });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof StorageError, String(error));
  assert.match(error.message, /reference\.bin/);
  assert.match(error.message, /rejected/);
  assert.match(String((error.cause as Error).message), /does not verify/);
  assert.ok(seen.length >= 2);
  // Every range before the tampered one stayed; the tampered one rolled back.
  assert.equal(repo.byteLength, seen.at(-1));
  assert.equal(error.streamBytes, seen.at(-1));
  assert.equal(repo.signedLength, repo.byteLength);
});

Deno.test("loadInto reports a malformed chunk as a StorageError and keeps the ranges before it", () => {
  const ranges = buildRanges(4);
  const chunks = ranges.flatMap((range) => range.chunks.map((c) => c.slice()));
  // Break a chunk of the third range: an address that is not before it.
  const index = ranges[0].chunks.length + ranges[1].chunks.length + 1;
  chunks[index] = new Uint8Array([0xff, 0xff, 168]);
  for (const target of [new Streamo(), new ChunkStore()]) {
    let error: unknown;
    try {
      loadInto(target, chunks, { source: "damaged" });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof StorageError, String(error));
    assert.equal(error.offset, ranges[2].offset);
    assert.equal(target.byteLength, ranges[2].offset);
    assert.equal(error.chunks.length, index - 1);
  }
});

Deno.test("parseArchive reads the vectors' wire frames as a clean archive", () => {
  const bytes = encodeFrames(referenceChunks);
  const scan = parseArchive(bytes, { source: "ref.bin" });
  assert.equal(scan.error, undefined);
  assert.equal(scan.tail, undefined);
  assert.equal(scan.validBytes, bytes.length);
  assert.deepStrictEqual(scan.chunks, referenceChunks);
});

Deno.test("parseArchive tells a torn tail from damage inside signed data", () => {
  const bytes = encodeFrames(referenceChunks);
  // Cut mid-frame: torn.
  const torn = parseArchive(bytes.subarray(0, bytes.length - 3));
  assert.equal(torn.error, undefined);
  assert.match(torn.tail!.reason, /partial frame/);
  assert.ok(torn.validBytes < bytes.length - 3);
  // Length 0 in the first frame, signed ranges after it: damage.
  const damaged = bytes.slice();
  damaged.fill(0, 0, 4);
  const scan = parseArchive(damaged, { source: "x.bin" });
  assert.ok(scan.error instanceof StorageError);
  assert.equal(scan.error.offset, 0);
  assert.match(scan.error.message, /x\.bin: frame at byte 0: frame length 0/);
  assert.deepStrictEqual(scan.chunks, []);
});
