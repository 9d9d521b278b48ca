import assert from "node:assert/strict";
import fc from "fast-check";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { type KeyPair, Signer, verifySignature } from "./signer.ts";
import { highS, type Secp256k1Backend } from "./secp256k1.ts";
import { nobleBackend } from "./secp256k1_noble.ts";
import { loadWasmBackend } from "./secp256k1_wasm.ts";
import { loadNativeBackend } from "./secp256k1_native.node.ts";
import { loadVectors, type SignerCase } from "../../tests/support/vectors.ts";

const vectors: SignerCase[] = (await loadVectors()).signer;

// Every backend that loads here (secp256k1_test.ts asserts which must load).
const backends: Secp256k1Backend[] = [nobleBackend];
for (const load of [loadWasmBackend, loadNativeBackend]) {
  try {
    backends.push(await load());
  } catch { /* reported by secp256k1_test.ts */ }
}

/** Fresh Signers for every vector (created per test: construction starts PBKDF2). */
function vectorSigners(backend: Secp256k1Backend): Signer[] {
  return vectors.map((v) =>
    new Signer(v.username, v.password, v.iterations, { backend })
  );
}

for (const backend of backends) {
  const label = `(${backend.name} backend)`;

  Deno.test(`Signer.keysFor() derives every vector's private and public key ${label}`, async () => {
    const signers = vectorSigners(backend);
    for (const [i, v] of vectors.entries()) {
      const keys = await signers[i].keysFor(v.name);
      assert.equal(keys.privateKey.length, 32);
      assert.equal(keys.publicKey.length, 33);
      assert.equal(
        bytesToHex(keys.privateKey),
        v.privateKey,
        `${v.username}/${v.name}@${v.iterations}`,
      );
      assert.equal(
        bytesToHex(keys.publicKey),
        v.publicKey,
        `${v.username}/${v.name}@${v.iterations}`,
      );
      assert.equal(await signers[i].publicKeyHex(v.name), v.publicKey);
    }
  });

  Deno.test(`Signer.sign() matches reference signatures for every vector ${label}`, async () => {
    const signers = vectorSigners(backend);
    let count = 0;
    for (const [i, v] of vectors.entries()) {
      for (const s of v.signatures) {
        const signature = await signers[i].sign(
          v.name,
          hexToBytes(s.bytes),
        );
        assert.equal(
          bytesToHex(signature),
          s.signature,
          `${v.username}/${v.name} ${s.bytes}`,
        );
        count++;
      }
    }
    assert.equal(count, vectors.reduce((n, v) => n + v.signatures.length, 0));
  });

  Deno.test(`verifySignature() agrees with every vector's "verifies" ${label}`, () => {
    for (const v of vectors) {
      for (const s of v.signatures) {
        assert.equal(
          verifySignature(
            hexToBytes(v.publicKey),
            hexToBytes(s.bytes),
            hexToBytes(s.signature),
            backend,
          ),
          s.verifies,
        );
      }
    }
  });

  Deno.test(`verifySignature() returns false for a wrong signature, key or bytes ${label}`, () => {
    const v = vectors[1];
    const s = v.signatures[2];
    const publicKey = hexToBytes(v.publicKey);
    const bytes = hexToBytes(s.bytes);
    const signature = hexToBytes(s.signature);
    const verify = (k: unknown, b: Uint8Array, sig: unknown) =>
      verifySignature(k as Uint8Array, b, sig as Uint8Array, backend);
    assert.equal(verify(publicKey, bytes, signature), true);
    assert.equal(
      verify(hexToBytes(vectors[0].publicKey), bytes, signature),
      false,
    );
    assert.equal(
      verify(publicKey, hexToBytes(v.signatures[1].bytes), signature),
      false,
    );
    assert.equal(verify(publicKey, bytes.subarray(0, -1), signature), false);
    assert.equal(
      verify(publicKey, bytes, hexToBytes(v.signatures[1].signature)),
      false,
    );
    assert.equal(verify(publicKey, bytes, highS(signature)), false);
    // Malformed or wrong-length keys and signatures never throw.
    for (
      const badSig of [
        signature.subarray(1),
        new Uint8Array(0),
        new Uint8Array(64),
        new Uint8Array(64).fill(255),
        new Uint8Array(65),
        s.signature,
        null,
        undefined,
        [...signature],
        signature.buffer,
      ]
    ) {
      assert.equal(verify(publicKey, bytes, badSig), false);
    }
    for (
      const badKey of [
        publicKey.subarray(1),
        new Uint8Array(33),
        new Uint8Array(33).fill(2),
        new Uint8Array(65).fill(4),
        v.publicKey,
        null,
        42,
      ]
    ) {
      assert.equal(verify(badKey, bytes, signature), false);
    }
  });
}

Deno.test("verifySignature() uses the active backend and throws TypeError only for non-byte input bytes", () => {
  const v = vectors[0];
  const s = v.signatures[0];
  assert.equal(
    verifySignature(
      hexToBytes(v.publicKey),
      hexToBytes(s.bytes),
      hexToBytes(s.signature),
    ),
    true,
  );
  assert.throws(
    () =>
      verifySignature(
        hexToBytes(v.publicKey),
        "" as unknown as Uint8Array,
        hexToBytes(s.signature),
      ),
    TypeError,
  );
});

Deno.test("new Signer() rejects a non-string username or password with TypeError", () => {
  for (const bad of [undefined, null, 1, {}, new Uint8Array(2)]) {
    assert.throws(() => new Signer(bad as string, "pw", 1), {
      name: "TypeError",
      message: /username/,
    });
    assert.throws(() => new Signer("alice", bad as string, 1), {
      name: "TypeError",
      message: /password/,
    });
  }
});

Deno.test("new Signer() rejects iterations that are not a positive 32-bit integer with RangeError", () => {
  for (
    const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 32, "1000", undefined, 10n]
  ) {
    assert.throws(() => new Signer("alice", "pw", bad as number), {
      name: "RangeError",
      message: /iterations/,
    });
  }
});

Deno.test("Signer.keysFor(), publicKeyHex() and sign() reject a non-string name or non-byte input with TypeError", async () => {
  const signer = new Signer("alice", "pw", 1);
  for (const bad of [undefined, null, 7, {}]) {
    await assert.rejects(signer.keysFor(bad as string), {
      name: "TypeError",
      message: /name/,
    });
    await assert.rejects(signer.publicKeyHex(bad as string), {
      name: "TypeError",
      message: /name/,
    });
    await assert.rejects(signer.sign(bad as string, new Uint8Array(1)), {
      name: "TypeError",
      message: /name/,
    });
  }
  for (const bad of ["bytes", [1, 2], new ArrayBuffer(2), null]) {
    await assert.rejects(signer.sign("chat", bad as unknown as Uint8Array), {
      name: "TypeError",
      message: /bytes/,
    });
  }
  await signer.keysFor("chat"); // let the hashword derivation finish
});

Deno.test("concurrent Signer.keysFor() calls for one name derive once", async () => {
  const subtle = crypto.subtle;
  const original = subtle.deriveBits;
  let calls = 0;
  subtle.deriveBits = function (
    ...args: Parameters<SubtleCrypto["deriveBits"]>
  ) {
    calls++;
    return original.apply(subtle, args);
  };
  try {
    const v = vectors[4]; // 1,000 iterations
    const signer = new Signer(v.username, v.password, v.iterations);
    const results: KeyPair[] = await Promise.all([
      signer.keysFor(v.name),
      signer.keysFor(v.name),
      signer.sign(v.name, new Uint8Array(0)).then(() => signer.keysFor(v.name)),
      signer.keysFor(v.name),
      signer.publicKeyHex(v.name).then(() => signer.keysFor(v.name)),
    ]);
    for (const keys of results) {
      assert.equal(bytesToHex(keys.publicKey), v.publicKey);
    }
    assert.equal(calls, 2, "one PBKDF2 for the hashword, one for the name");
    await signer.keysFor("other");
    assert.equal(calls, 3, "a second name costs one more PBKDF2, not two");
  } finally {
    delete (subtle as { deriveBits?: unknown }).deriveBits;
    if (subtle.deriveBits !== original) subtle.deriveBits = original;
  }
});

Deno.test("Signer.keysFor() returns copies: mutating them does not change later signatures", async () => {
  const v = vectors[0];
  const signer = new Signer(v.username, v.password, v.iterations);
  const keys = await signer.keysFor(v.name);
  keys.privateKey.fill(0);
  keys.publicKey.fill(0);
  const again = await signer.keysFor(v.name);
  assert.equal(bytesToHex(again.privateKey), v.privateKey);
  assert.equal(
    bytesToHex(await signer.sign(v.name, new Uint8Array(0))),
    v.signatures[0].signature,
  );
});

Deno.test("Signer gives different names different keys, and signs deterministically", async () => {
  const signer = new Signer("alice", "pw", 1);
  const a = await signer.keysFor("chat");
  const b = await signer.keysFor("notes");
  assert.notEqual(bytesToHex(a.publicKey), bytesToHex(b.publicKey));
  const bytes = new TextEncoder().encode("same bytes");
  assert.deepEqual(
    await signer.sign("chat", bytes),
    await signer.sign("chat", bytes),
  );
  assert.equal(
    verifySignature(b.publicKey, bytes, await signer.sign("chat", bytes)),
    false,
  );
});

Deno.test("Signer does not expose the password", async () => {
  const password = "a-very-distinctive-password";
  const signer = new Signer("alice", password, 1);
  await signer.keysFor("chat");
  assert.ok(
    !Deno.inspect(signer, { showHidden: true, depth: 10 }).includes(password),
  );
  assert.ok(!JSON.stringify(signer).includes(password));
  assert.deepEqual(Object.keys(signer).sort(), ["iterations", "username"]);
});

Deno.test("Signer handles empty and non-ASCII credentials and names (UTF-8)", async () => {
  const a = await new Signer("", "", 1).keysFor("");
  assert.equal(a.publicKey.length, 33);
  const b = await new Signer("zoë", "pässwörd ✓", 1).keysFor("chät");
  const c = await new Signer("zoe", "pässwörd ✓", 1).keysFor("chät");
  assert.notEqual(bytesToHex(b.privateKey), bytesToHex(c.privateKey));
});

for (const backend of backends) {
  Deno.test(`property: Signer.sign() output verifies and a flipped bit fails (1,000 runs, ${backend.name} backend)`, async () => {
    const signer = new Signer("prop", "erty", 1, { backend });
    const names = ["chat", "notes", "x"];
    const publicKeys = await Promise.all(
      names.map(async (n) => (await signer.keysFor(n)).publicKey),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: names.length - 1 }),
        fc.uint8Array({ maxLength: 256 }),
        fc.nat(),
        async (which, bytes, bit) => {
          const signature = await signer.sign(names[which], bytes);
          const publicKey = publicKeys[which];
          assert.equal(
            verifySignature(publicKey, bytes, signature, backend),
            true,
          );
          const badSignature = signature.slice();
          const sigBit = bit % 512;
          badSignature[sigBit >> 3] ^= 1 << (sigBit & 7);
          assert.equal(
            verifySignature(publicKey, bytes, badSignature, backend),
            false,
          );
          if (bytes.length > 0) {
            const badBytes = bytes.slice();
            const byteBit = bit % (bytes.length * 8);
            badBytes[byteBit >> 3] ^= 1 << (byteBit & 7);
            assert.equal(
              verifySignature(publicKey, badBytes, signature, backend),
              false,
            );
          }
          const otherKey = publicKeys[(which + 1) % names.length];
          assert.equal(
            verifySignature(otherKey, bytes, signature, backend),
            false,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
}
