import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeFrames } from "../codec/frames.ts";
import { bytesToHex } from "../codec/hex.ts";
import { Signature } from "../codec/signature.ts";
import { ForkError, SignatureError } from "../errors.ts";
import { Signer } from "../identity/signer.ts";
import { Ingest } from "./ingest.ts";
import { Repo } from "./repo.ts";

const alice = new Signer("alice", "pw", 1);
const mallory = new Signer("mallory", "pw", 1);

/** A signed repo with `n` chat commits, one signature each. */
async function writer(n: number, signer = alice): Promise<Repo> {
  let t = 1746619200000;
  const repo = new Repo({ now: () => t++ });
  await repo.attachSigner(signer, "chat");
  repo.set({ name: "alice", messages: [] });
  await repo.whenSigned();
  for (let i = 0; i < n; i++) {
    repo.push("messages", { text: `message ${i}`, at: t });
    await repo.whenSigned();
  }
  return repo;
}

function reader(source: Repo): Repo {
  return new Repo({ key: source.key });
}

/** Whether a chunk is a SIGNATURE chunk (footer 158–161). */
function isSignatureChunk(chunk: Uint8Array): boolean {
  const footer = chunk[chunk.length - 1];
  return footer >= 158 && footer < 162;
}

function frames(repo: Repo, from = 0, to?: number): Uint8Array {
  return encodeFrames(repo.chunksBetween(from, to));
}

/** Asserts `f` throws `type` whose message matches `pattern` and nothing was appended. */
function rejects(
  target: Repo,
  f: () => void,
  type: new (...args: never[]) => Error,
  pattern: RegExp,
): void {
  const before = target.slice();
  assert.throws(f, (error: Error) => {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${error.name}: ${error.message}`,
    );
    assert.match(error.message, pattern);
    return true;
  });
  assert.deepEqual(target.slice(), before, "nothing may be appended");
}

Deno.test("Ingest copies a signed stream byte for byte", async () => {
  const source = await writer(5);
  const copy = reader(source);
  const ingest = new Ingest(copy);
  assert.equal(ingest.write(frames(source)), source.byteLength);
  ingest.end();
  assert.equal(bytesToHex(copy.slice()), bytesToHex(source.slice()));
  assert.deepEqual(copy.get(), source.get());
  assert.equal(copy.signedLength, source.byteLength);
});

Deno.test("Repo.onVerified() reports each verified range once, with its end and its chunks", async () => {
  const source = await writer(3);
  const copy = reader(source);
  const ranges: { offset: number; end: number; bytes: string }[] = [];
  copy.onVerified((range) => {
    const bytes = new Uint8Array(range.end - range.offset);
    let at = 0;
    for (const chunk of range.chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    assert.equal(at, bytes.length, "the chunks fill the range exactly");
    ranges.push({ ...range, bytes: bytesToHex(bytes) });
  });
  new Ingest(copy).write(frames(source));
  assert.equal(ranges.length, 4, "one range per signature");
  let offset = 0;
  for (const range of ranges) {
    assert.equal(range.offset, offset, "ranges are contiguous");
    assert.equal(
      range.bytes,
      bytesToHex(source.slice(range.offset, range.end)),
    );
    offset = range.end;
  }
  assert.equal(offset, source.byteLength);
});

Deno.test("Ingest holds unsigned chunks pending and appends nothing", async () => {
  const source = await writer(1);
  const copy = reader(source);
  const ingest = new Ingest(copy);
  const chunks = source.chunksBetween(0);
  const firstSignature = chunks.findIndex(isSignatureChunk);
  ingest.write(encodeFrames(chunks.slice(0, firstSignature)));
  assert.equal(copy.byteLength, 0);
  assert.ok(ingest.pendingBytes > 0);
  rejects(
    copy,
    () => ingest.end(),
    SignatureError,
    /ended with \d+ unsigned bytes/,
  );
});

Deno.test("Ingest rejects chunks signed by another key", async () => {
  const source = await writer(1);
  const forged = await writer(1, mallory);
  const copy = reader(source);
  rejects(
    copy,
    () => new Ingest(copy).write(frames(forged)),
    SignatureError,
    /signature does not verify for key 02/,
  );
});

Deno.test("Ingest rejects a stream whose byte before the signature was changed", async () => {
  const source = await writer(0);
  const chunks = source.chunksBetween(0);
  const record = chunks[chunks.length - 2].slice();
  // OBJECT (1-byte address) → VARIABLE (1-byte address): same width, not a commit.
  record[record.length - 1] = 0xc8;
  chunks[chunks.length - 2] = record;
  const copy = reader(source);
  rejects(
    copy,
    () => new Ingest(copy).write(encodeFrames(chunks)),
    SignatureError,
    /not a well-formed commit record/,
  );
  // Any other byte of the signed range changed: the signature fails.
  const tampered = source.chunksBetween(0);
  const data = tampered[0].slice();
  data[0] ^= 1;
  tampered[0] = data;
  rejects(
    copy,
    () => new Ingest(copy).write(encodeFrames(tampered)),
    SignatureError,
    /does not verify/,
  );
});

Deno.test("Ingest rejects a replayed earlier signature", async () => {
  const source = await writer(2);
  const copy = reader(source);
  const ingest = new Ingest(copy);
  const all = source.chunksBetween(0);
  const firstSignature = all.findIndex(isSignatureChunk);
  ingest.write(encodeFrames(all.slice(0, firstSignature + 1)));
  const stored = copy.byteLength;
  // Next commit's chunks, then the FIRST signature again.
  const next = source.chunksBetween(stored);
  const nextSignature = next.findIndex(isSignatureChunk);
  const replay = [...next.slice(0, nextSignature), all[firstSignature]];
  rejects(
    copy,
    () => ingest.write(encodeFrames(replay)),
    SignatureError,
    /covers bytes from 0/,
  );
  assert.equal(copy.byteLength, stored);
});

Deno.test("Ingest rejects a signature whose address skips or overlaps", async () => {
  const source = await writer(1);
  const chunks = source.chunksBetween(0);
  const copy = reader(source);
  const ingest = new Ingest(copy);
  const firstEnd = chunks.findIndex(isSignatureChunk);
  ingest.write(encodeFrames(chunks.slice(0, firstEnd + 1)));
  const second = chunks.slice(firstEnd + 1);
  const original = second[second.length - 1];
  for (
    const address of [copy.lastSignatureStart + 1, copy.lastSignatureStart - 1]
  ) {
    const fresh = new Ingest(copy, { from: copy.byteLength });
    const sig = copy.encode(
      new Signature(address, original.subarray(original.length - 65, -1)),
    );
    rejects(
      copy,
      () => fresh.write(encodeFrames([...second.slice(0, -1), sig])),
      SignatureError,
      /covers bytes from \d+, but the previous signature starts at \d+/,
    );
  }
});

Deno.test("Ingest rejects a truncated frame, length 0 and an overlong length", async () => {
  const source = await writer(0);
  const bytes = frames(source);
  const copy = reader(source);
  const truncated = new Ingest(copy);
  truncated.write(bytes.subarray(0, bytes.length - 3));
  rejects(copy, () => truncated.end(), SyntaxError, /ended inside a frame/);
  rejects(
    copy,
    () => new Ingest(copy).write(new Uint8Array([0, 0, 0, 0])),
    SyntaxError,
    /length 0/,
  );
  rejects(
    copy,
    () => new Ingest(copy).write(new Uint8Array([70, 0, 0, 0, 1])),
    RangeError,
    /length 70 is above the limit of 69/,
  );
});

Deno.test("Ingest bounds pending bytes", async () => {
  const source = await writer(20);
  const chunks = source.chunksBetween(0).filter((c) => !isSignatureChunk(c));
  const copy = reader(source);
  rejects(
    copy,
    () =>
      new Ingest(copy, { maxPendingBytes: 256 }).write(encodeFrames(chunks)),
    RangeError,
    /more than 256 bytes arrived without a signature/,
  );
});

Deno.test("Ingest detects a fork: same offset, different chunk", async () => {
  const source = await writer(1);
  const copy = reader(source);
  new Ingest(copy).write(frames(source));
  // Another device with the same key continues differently from the same start.
  let t = 1;
  const other = new Repo({ now: () => t++ });
  await other.attachSigner(alice, "chat");
  other.set({ name: "alice (phone)", messages: [] });
  await other.whenSigned();
  const error = (() => {
    try {
      new Ingest(copy).write(frames(other));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ForkError);
  const mine = source.slice();
  const theirs = other.slice();
  let differ = 0;
  while (mine[differ] === theirs[differ]) differ++;
  assert.ok(error.offset! <= differ && other.isChunkBoundary(error.offset!));
  assert.match(
    error.message,
    /differs from the chunk already stored there \(a fork\)/,
  );
  assert.equal(bytesToHex(copy.slice()), bytesToHex(source.slice()));
});

Deno.test("Ingest skips what it already has and resumes from an offset", async () => {
  const source = await writer(3);
  const copy = reader(source);
  const half = source.chunksBetween(0).length >> 1;
  new Ingest(copy).writeChunks(source.chunksBetween(0).slice(0, half));
  // Replay from 0: known chunks are checked and skipped.
  new Ingest(copy).write(frames(source));
  assert.equal(bytesToHex(copy.slice()), bytesToHex(source.slice()));
  const more = await writer(5);
  const copy2 = reader(more);
  new Ingest(copy2).write(
    frames(more, 0, more.byteLength >> 1 > 0 ? undefined : undefined),
  );
  assert.equal(copy2.byteLength, more.byteLength);
});

Deno.test("Ingest refuses input after an error", async () => {
  const source = await writer(0);
  const copy = reader(source);
  const ingest = new Ingest(copy);
  assert.throws(() => ingest.write(new Uint8Array([0, 0, 0, 0])), SyntaxError);
  assert.throws(
    () => ingest.write(frames(source)),
    /stopped after an earlier error/,
  );
});

Deno.test("Ingest yields a byte-identical copy however the frames are split (property)", async () => {
  const sources = await Promise.all([writer(0), writer(3), writer(12)]);
  fc.assert(
    fc.property(
      fc.constantFrom(...sources),
      fc.array(fc.integer({ min: 1, max: 64 }), {
        minLength: 1,
        maxLength: 400,
      }),
      fc.boolean(),
      (source, cuts, bytewise) => {
        const bytes = frames(source);
        const copy = reader(source);
        const ingest = new Ingest(copy);
        let at = 0;
        let i = 0;
        while (at < bytes.length) {
          const size = bytewise ? 1 : cuts[i++ % cuts.length];
          ingest.write(bytes.subarray(at, at + size));
          at += size;
        }
        ingest.end();
        return bytesToHex(copy.slice()) === bytesToHex(source.slice());
      },
    ),
    { numRuns: 300 },
  );
});
