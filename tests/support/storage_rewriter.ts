/**
 * Child process for the replace case of `tests/storage_fault_test.ts`:
 * appends ranges to one repo in a file storage (`durability: "always"`)
 * and, about every other operation, replaces the tail after a random
 * signed boundary with a different continuation (or truncates there), as
 * a rebase does. It prints, per operation:
 *
 *     intent <seq> <append|replace> <offset> <length after> <sha256 after>
 *     ack <seq> <ms the operation took>
 *
 * `intent` before calling the driver (with the stream the operation
 * leads to), `ack` once it resolved. It first loads what is stored and
 * prints `ready <length> <sha256>`. Runs until killed.
 *
 *     deno run -A tests/support/storage_rewriter.ts <dir> <seed>
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../../lib/mod.ts";
import { isSignatureChunk } from "../../lib/storage/checker.ts";
import { FileStorage } from "../../lib/storage/file_storage.deno.ts";
import {
  chatValue,
  concat,
  KEY_A,
  prng,
  randomBytes,
  RangeBuilder,
} from "./storage_data.ts";

const [dir, seedText] = Deno.args;
const random = prng(Number(seedText ?? 1));
const encoder = new TextEncoder();
/** Streams longer than this are cut back by replaces near their start. */
const MAX_STREAM = 120_000;

function say(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

function hash(chunks: readonly Uint8Array[]): string {
  return bytesToHex(sha256(concat(chunks)));
}

/** Chunk counts after which a signed range ends (0 first). */
function signedEnds(chunks: readonly Uint8Array[]): number[] {
  const ends = [0];
  chunks.forEach((chunk, i) => {
    if (isSignatureChunk(chunk)) ends.push(i + 1);
  });
  return ends;
}

function nextValue(n: number): unknown {
  return random() < 0.05
    ? { blob: randomBytes(random, 4000 + ((random() * 12_000) | 0)) }
    : chatValue(n, random);
}

const storage = new FileStorage(dir, { durability: "always" });
let chunks = await storage.load(KEY_A);
let builder = new RangeBuilder(chunks);
say(`ready ${builder.byteLength} ${hash(chunks)}`);

let n = 0;
for (let seq = 1;; seq++) {
  const ends = signedEnds(chunks);
  if (ends.length === 1 || random() < 0.5) {
    const range = builder.next(nextValue(n++));
    const after = [...chunks, ...range.chunks];
    say(
      `intent ${seq} append ${range.offset} ${builder.byteLength} ${
        hash(
          after,
        )
      }`,
    );
    const started = performance.now();
    await storage.append(KEY_A, range.offset, range.chunks);
    say(`ack ${seq} ${(performance.now() - started).toFixed(1)}`);
    chunks = after;
    continue;
  }
  // Replace after a signed boundary: mostly a recent one (a short unsynced
  // tail), sometimes any, and near the start when the stream is long.
  const pick = builder.byteLength > MAX_STREAM
    ? (random() * Math.min(ends.length, 4)) | 0
    : random() < 0.7
    ? ends.length - 1 - ((random() * Math.min(ends.length, 8)) | 0)
    : (random() * ends.length) | 0;
  const kept = chunks.slice(0, ends[pick]);
  const rebased = new RangeBuilder(kept);
  const offset = rebased.byteLength;
  const count = random() < 0.15 ? 0 : 1 + ((random() * 3) | 0);
  const replacement: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    replacement.push(...rebased.next(nextValue(n++)).chunks);
  }
  const after = [...kept, ...replacement];
  say(
    `intent ${seq} replace ${offset} ${rebased.byteLength} ${
      hash(
        after,
      )
    }`,
  );
  const started = performance.now();
  await storage.replace(KEY_A, offset, replacement);
  say(`ack ${seq} ${(performance.now() - started).toFixed(1)}`);
  chunks = after;
  builder = rebased;
}
