import assert from "node:assert/strict";
import { isPublicKey, publicKeyFromHex, publicKeyToHex } from "./keys.ts";

const KEY =
  "022ffa1f297146d094fd008dab9a89a74ca72a498345f7b85bca7b20d73cd08bab";

Deno.test("publicKeyFromHex() and publicKeyToHex() round-trip a compressed key", () => {
  const bytes = publicKeyFromHex(KEY);
  assert.equal(bytes.length, 33);
  assert.equal(publicKeyToHex(bytes), KEY);
  assert.equal(
    publicKeyToHex(publicKeyFromHex(KEY.toUpperCase().replace("0X", "0x"))),
    KEY,
  );
});

Deno.test("publicKeyFromHex() rejects text that is not 02/03 + 64 hex digits with SyntaxError", () => {
  for (
    const bad of [
      "",
      KEY.slice(2),
      "04" + KEY.slice(2),
      KEY + "00",
      KEY.slice(0, -1) + "g",
      " " + KEY,
    ]
  ) {
    assert.throws(() => publicKeyFromHex(bad), SyntaxError);
  }
  assert.throws(() => publicKeyFromHex(42 as unknown as string), TypeError);
});

Deno.test("publicKeyToHex() rejects anything but 33 bytes starting 02/03", () => {
  assert.throws(() => publicKeyToHex(new Uint8Array(32).fill(2)), RangeError);
  assert.throws(() => publicKeyToHex(new Uint8Array(33).fill(4)), RangeError);
  assert.throws(() => publicKeyToHex(new Uint8Array(0)), RangeError);
  assert.throws(() => publicKeyToHex(KEY as unknown as Uint8Array), TypeError);
});

Deno.test("isPublicKey() checks the compressed-key shape", () => {
  assert.equal(isPublicKey(publicKeyFromHex(KEY)), true);
  assert.equal(isPublicKey(new Uint8Array(33).fill(3)), true);
  assert.equal(isPublicKey(new Uint8Array(33).fill(4)), false);
  assert.equal(isPublicKey(new Uint8Array(32).fill(2)), false);
  assert.equal(isPublicKey(KEY), false);
  assert.equal(isPublicKey(null), false);
});
