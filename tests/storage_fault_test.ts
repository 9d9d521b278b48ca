/**
 * Crash safety of the file archive driver with a real child process: a
 * writer (`tests/support/storage_writer.ts`, `durability: "always"`)
 * appends ranges to two repos in a tight loop and acknowledges each one
 * after `append` resolved; the test kills it with SIGKILL at random points,
 * restarts it on the same directory, and checks after every kill that the
 * archives load, hold every acknowledged range byte for byte, and end on a
 * signed range with no partial frames left in the files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, encodeFrames, Streamo } from "../lib/mod.ts";
import { FileStorage } from "../lib/storage/file_storage.deno.ts";
import { loadInto, type RecoveryEvent } from "../lib/storage/mod.ts";
import { concat, KEY_A, KEY_B, prng } from "./support/storage_data.ts";

const WRITER = new URL("./support/storage_writer.ts", import.meta.url)
  .pathname;
const KILLS = 24;
const SEED = 20240607;

interface Ack {
  offset: number;
  end: number;
  hash: string;
}

/** Splits a byte stream into text lines. */
async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffer = "";
  for await (
    const text of stream.pipeThrough(
      new TextDecoderStream() as TransformStream<Uint8Array, string>,
    )
  ) {
    buffer += text;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

/** Runs the writer once, kills it, and returns the lines it printed. */
async function runAndKill(
  dir: string,
  run: number,
  random: () => number,
): Promise<{ lines: string[]; killedEarly: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WRITER, dir, String(run + 1)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  // One kill in four lands while the writer is starting up and loading
  // (recovery code); the rest while it is appending.
  const killedEarly = random() < 0.25;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  if (killedEarly) timer = setTimeout(kill, 20 + random() * 150);
  const out: string[] = [];
  for await (const line of lines(child.stdout)) {
    out.push(line);
    if (line === "ready" && !killedEarly) {
      timer = setTimeout(kill, 5 + random() * 200);
    }
  }
  const status = await child.status;
  clearTimeout(timer);
  const errors = await stderr;
  assert.equal(
    status.signal,
    "SIGKILL",
    `run ${run}: the writer should only stop when killed; it exited with ${status.code}: ${errors}`,
  );
  return { lines: out, killedEarly };
}

Deno.test("file storage survives SIGKILL at random points: every acknowledged range loads, and no partial data remains", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-fault-" });
  const random = prng(SEED);
  const acked = new Map<string, Ack[]>([[KEY_A, []], [KEY_B, []]]);
  let recovered = 0;
  let ackCount = 0;
  try {
    for (let run = 0; run < KILLS; run++) {
      const { lines } = await runAndKill(dir, run, random);
      for (const line of lines) {
        const [word, key, offset, end, hash] = line.split(" ");
        if (word === "recovered") recovered++;
        if (word !== "ack") continue;
        acked.get(key)!.push({ offset: +offset, end: +end, hash });
        ackCount++;
      }

      // Check what a restart finds, with a fresh driver (as the next run
      // will): every acknowledged range is there, byte for byte.
      const events: RecoveryEvent[] = [];
      const storage = new FileStorage(dir, {
        onRecover: (event) => events.push(event),
      });
      try {
        for (const [key, acks] of acked) {
          const chunks = await storage.load(key);
          const stream = concat(chunks);
          for (const ack of acks) {
            assert.ok(
              ack.end <= stream.length,
              `run ${run}: ${
                key.slice(0, 8)
              }: acknowledged range ${ack.offset}..${ack.end} is missing (stream has ${stream.length} bytes)`,
            );
            assert.equal(
              bytesToHex(sha256(stream.subarray(ack.offset, ack.end))),
              ack.hash,
              `run ${run}: ${key.slice(0, 8)}: range at ${ack.offset} differs`,
            );
          }
          // Structurally sound, ends on a signed range, and the file holds
          // exactly those frames: no partial garbage.
          const result = loadInto(new Streamo(), chunks);
          assert.equal(result.byteLength, stream.length);
          assert.equal(result.droppedBytes, 0);
          const file = await Deno.readFile(`${dir}/${key}.bin`).catch(
            () => new Uint8Array(),
          );
          assert.deepStrictEqual(file, encodeFrames(chunks));
        }
      } finally {
        await storage.close();
      }
      // The writer itself recovers torn tails on start; the check above
      // runs after a kill, so it may also be the one to cut one.
      recovered += events.length;
    }
    assert.ok(ackCount > KILLS, `only ${ackCount} ranges were acknowledged`);
    console.log(
      `${KILLS} kills, ${ackCount} acknowledged ranges, ${recovered} torn tails recovered`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
