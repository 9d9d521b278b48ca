/**
 * Crash safety of the file archive driver with a real child process: a
 * writer (`tests/support/storage_writer.ts`, `durability: "always"`)
 * appends ranges to two repos in a tight loop and acknowledges each one
 * after `append` resolved; the test kills it with SIGKILL at random points,
 * restarts it on the same directory, and checks after every kill that the
 * archives load, hold every acknowledged range byte for byte, and end on a
 * signed range with no partial frames left in the files.
 *
 * The same for `replace`: a writer (`tests/support/storage_rewriter.ts`)
 * mixes appends with replaces of the tail (as rebases do), and is killed
 * mostly while a replace runs; after every kill the archive must be the
 * stream before or after the operation in flight, never a mix.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, encodeFrames, Streamo } from "../lib/mod.ts";
import { FileStorage } from "../lib/storage/file_storage.deno.ts";
import { loadInto, type RecoveryEvent } from "../lib/storage/mod.ts";
import { concat, KEY_A, KEY_B, prng } from "./support/storage_data.ts";
import { isSignatureChunk } from "../lib/storage/checker.ts";

const WRITER = new URL("./support/storage_writer.ts", import.meta.url)
  .pathname;
const REWRITER = new URL("./support/storage_rewriter.ts", import.meta.url)
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

/**
 * Starts the child process `script` on `dir` with seed `run + 1`: its
 * stderr as text, and `kill` to SIGKILL it (a no-op once it exited).
 */
function spawn(script: string, dir: string, run: number): {
  child: Deno.ChildProcess;
  stderr: Promise<string>;
  kill: () => void;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, dir, String(run + 1)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  return { child, stderr, kill };
}

/** Runs the writer once, kills it, and returns the lines it printed. */
async function runAndKill(
  dir: string,
  run: number,
  random: () => number,
): Promise<{ lines: string[]; killedEarly: boolean }> {
  const { child, stderr, kill } = spawn(WRITER, dir, run);
  // One kill in four lands while the writer is starting up and loading
  // (recovery code); the rest while it is appending.
  const killedEarly = random() < 0.25;
  let timer: ReturnType<typeof setTimeout> | undefined;
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

/** A stream state the rewriter announced: its length and SHA-256. */
interface StreamState {
  length: number;
  hash: string;
}

const REPLACE_KILLS = 16;

Deno.test("file storage replace survives SIGKILL at random points, mostly mid-replace: after every restart the archive is the stream before or after the operation in flight, never a mix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-replace-fault-" });
  const path = `${dir}/${KEY_A}.bin`;
  const random = prng(SEED + 1);
  let expected: StreamState = { length: 0, hash: sha256Hex([]) };
  let replaceMs = 4; // running estimate of one replace's duration
  let midReplace = 0;
  const outcomes = { before: 0, after: 0 }; // of kills during a replace
  let replacedTotal = 0;
  let tempsLeft = 0;
  try {
    for (let run = 0; run < REPLACE_KILLS; run++) {
      const { child, stderr, kill } = spawn(REWRITER, dir, run);
      // Three kills in four land a random moment into the nth replace
      // (the window of its writes, fsyncs and rename); the rest anywhere.
      const targeted = random() < 0.75;
      const nth = 1 + ((random() * 3) | 0);
      let timer: ReturnType<typeof setTimeout> | undefined;
      let acked: StreamState | undefined;
      let inFlight: (StreamState & { kind: string; seq: string }) | undefined;
      let replaces = 0;
      for await (const line of lines(child.stdout)) {
        const [word, ...rest] = line.split(" ");
        if (word === "ready") {
          assert.deepStrictEqual(
            { length: +rest[0], hash: rest[1] },
            expected,
            `run ${run}: the writer loaded another stream than the check did`,
          );
          acked = expected;
          if (!targeted) timer = setTimeout(kill, 5 + random() * 150);
        } else if (word === "intent") {
          const [seq, kind, , length, hash] = rest;
          inFlight = { seq, kind, length: +length, hash };
          if (kind === "replace" && targeted && ++replaces === nth) {
            timer = setTimeout(kill, random() * replaceMs * 1.5);
          }
        } else if (word === "ack") {
          assert.equal(rest[0], inFlight?.seq);
          if (inFlight!.kind === "replace") {
            replacedTotal++;
            replaceMs = replaceMs * 0.8 + +rest[1] * 0.2;
          }
          acked = { length: inFlight!.length, hash: inFlight!.hash };
          inFlight = undefined;
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
      assert.ok(acked, `run ${run}: killed before it loaded`);
      if (inFlight?.kind === "replace") midReplace++;

      // What a restart finds, with a fresh driver.
      if (await Deno.stat(`${path}.tmp`).catch(() => null)) tempsLeft++;
      const storage = new FileStorage(dir);
      try {
        const chunks = await storage.load(KEY_A);
        const found = {
          length: concat(chunks).length,
          hash: sha256Hex(chunks),
        };
        const allowed = inFlight
          ? [acked, { length: inFlight.length, hash: inFlight.hash }]
          : [acked];
        const match = allowed.findIndex((state) =>
          state.length === found.length && state.hash === found.hash
        );
        if (inFlight?.kind === "replace" && match >= 0) {
          outcomes[match === 0 ? "before" : "after"]++;
        }
        assert.ok(
          match >= 0,
          `run ${run}: the archive (${found.length} bytes) is neither the stream before nor after the ${
            inFlight?.kind ?? "last"
          } operation (${allowed.map((s) => s.length).join(" or ")} bytes)`,
        );
        // Whole, signed, and nothing else in the file; no temp file left.
        const result = loadInto(new Streamo(), chunks);
        assert.equal(result.droppedBytes, 0);
        assert.ok(chunks.length === 0 || isSignatureChunk(chunks.at(-1)!));
        const file = await Deno.readFile(path).catch(() => new Uint8Array());
        assert.deepStrictEqual(file, encodeFrames(chunks));
        assert.equal(await Deno.stat(`${path}.tmp`).catch(() => null), null);
        expected = found;
      } finally {
        await storage.close();
      }
    }
    console.log(
      `${REPLACE_KILLS} kills, ${midReplace} during a replace (${outcomes.before} found the stream before it, ${outcomes.after} after), ${replacedTotal} replaces acknowledged, ${tempsLeft} temp files left by a kill`,
    );
    assert.ok(
      midReplace >= REPLACE_KILLS / 3,
      `only ${midReplace} of ${REPLACE_KILLS} kills landed during a replace`,
    );
    assert.ok(replacedTotal > 0, "no replace completed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function sha256Hex(chunks: readonly Uint8Array[]): string {
  return bytesToHex(sha256(concat(chunks)));
}
