/**
 * Child process for `tests/storage_fault_test.ts`: appends signed-looking
 * ranges to two repos in a file storage with `durability: "always"`, as fast
 * as it can, and prints one line per range once `append` resolved (so the
 * range is fsynced):
 *
 *     ack <key> <offset> <end> <sha256 of the range's bytes>
 *
 * It first loads what is stored (recovering a torn tail) and prints
 * `ready`. Runs until killed.
 *
 *     deno run -A tests/support/storage_writer.ts <dir> <seed>
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "../../lib/mod.ts";
import { FileStorage } from "../../lib/storage/file_storage.deno.ts";
import {
  chatValue,
  concat,
  KEY_A,
  KEY_B,
  prng,
  randomBytes,
  RangeBuilder,
} from "./storage_data.ts";

const [dir, seedText] = Deno.args;
const random = prng(Number(seedText ?? 1));
const encoder = new TextEncoder();

function say(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

const storage = new FileStorage(dir, {
  durability: "always",
  onRecover: (event) =>
    say(`recovered ${event.key} ${event.validBytes} ${event.droppedBytes}`),
});

const keys = [KEY_A, KEY_B];
const builders = new Map<string, RangeBuilder>();
for (const key of keys) {
  builders.set(key, new RangeBuilder(await storage.load(key)));
}
say("ready");

let n = 0;
async function write(key: string): Promise<never> {
  const builder = builders.get(key)!;
  for (;;) {
    // Mostly small commits; now and then a large one (a write of
    // hundreds of KB, which a kill can interrupt half-way).
    const value = random() < 0.02
      ? { blob: randomBytes(random, 20_000 + ((random() * 80_000) | 0)) }
      : chatValue(n++, random);
    const range = builder.next(value);
    await storage.append(key, range.offset, range.chunks);
    const bytes = concat(range.chunks);
    say(
      `ack ${key} ${range.offset} ${range.offset + bytes.length} ${
        bytesToHex(sha256(bytes))
      }`,
    );
  }
}

await Promise.all(keys.map(write));
