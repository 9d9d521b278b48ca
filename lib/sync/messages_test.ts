import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";
import { decodeData, parseControl } from "./messages.ts";

const KEY = "02" + "ab".repeat(32);

Deno.test("parseControl reads reference and extension messages", () => {
  assert.deepEqual(parseControl(`{"type":"catalog","keys":["${KEY}"]}`), {
    type: "catalog",
    keys: [KEY],
  });
  assert.deepEqual(parseControl(`{"type":"subscribe","key":"${KEY}"}`), {
    type: "subscribe",
    key: KEY,
  });
  assert.deepEqual(
    parseControl(`{"type":"subscribe","key":"${KEY}","from":12}`),
    { type: "subscribe", key: KEY, from: 12 },
  );
  assert.deepEqual(
    parseControl(
      `{"type":"presence","topic":"${KEY}","state":{"on":1},"ttl":5}`,
    ),
    { type: "presence", topic: KEY, state: { on: 1 }, ttl: 5 },
  );
});

Deno.test("parseControl passes unknown types through to be ignored, as the reference does", () => {
  assert.deepEqual(parseControl(`{"type":"future","x":1}`), {
    type: "future",
    unknown: true,
  });
});

Deno.test("parseControl says what is malformed", () => {
  assert.throws(() => parseControl("{"), /not JSON/);
  assert.throws(() => parseControl("[]"), /not a JSON object/);
  assert.throws(
    () => parseControl(`{"type":"subscribe","key":"nope"}`),
    /subscribe.key must be a repo key/,
  );
  assert.throws(
    () => parseControl(`{"type":"seek","key":"${KEY}","offset":-1}`),
    /seek.offset must be a non-negative integer/,
  );
  assert.throws(
    () => parseControl(`{"type":"announce","key":"${KEY}","topic":""}`),
    /topic must be a string/,
  );
});

Deno.test("decodeData splits the key from the frames and refuses short or keyless data", () => {
  const bytes = new Uint8Array(40);
  bytes[0] = 2;
  const { key, frames } = decodeData(bytes);
  assert.equal(key, "02" + "00".repeat(32));
  assert.equal(frames.length, 7);
  assert.throws(() => decodeData(new Uint8Array(33)), /too short/);
  assert.throws(() => decodeData(new Uint8Array(40)), /not a public key/);
});

Deno.test("backoffDelay doubles up to the cap, with jitter in [0.5, 1)", () => {
  const opts = { baseMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0), 50);
  assert.equal(backoffDelay(2, opts, () => 0), 200);
  assert.equal(backoffDelay(10, opts, () => 0.999), 1000);
  assert.ok(backoffDelay(50, opts) <= 1000);
});
