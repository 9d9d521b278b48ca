import assert from "node:assert/strict";
import { bytesToHex } from "../codec/hex.ts";
import { resetSha256, setSha256, sha256, sha256Name } from "./sha256.ts";
import { nativeSha256 } from "./sha256_native.node.ts";

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

Deno.test("sha256() gives the standard digest with either implementation", () => {
  const abc = new TextEncoder().encode("abc");
  assert.equal(bytesToHex(sha256(abc)), ABC);
  setSha256("node:crypto", nativeSha256);
  try {
    assert.equal(sha256Name(), "node:crypto");
    assert.equal(bytesToHex(sha256(abc)), ABC);
    const big = new Uint8Array(100_000).map((_, i) => i * 7);
    resetSha256();
    const js = bytesToHex(sha256(big));
    setSha256("node:crypto", nativeSha256);
    assert.equal(bytesToHex(sha256(big)), js);
  } finally {
    resetSha256();
  }
});

Deno.test("setSha256() refuses an implementation that gives wrong digests", () => {
  assert.throws(
    () => setSha256("broken", () => new Uint8Array(32)),
    /SHA-256 implementation "broken" gives wrong digests/,
  );
  assert.equal(sha256Name(), "noble");
});
