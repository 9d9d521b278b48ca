import assert from "node:assert/strict";
import fc from "fast-check";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  getBackend,
  highS,
  resetBackend,
  type Secp256k1Backend,
  selfTestBackend,
  setBackend,
  useFastestBackend,
} from "./secp256k1.ts";
import { nobleBackend } from "./secp256k1_noble.ts";
import { loadWasmBackend } from "./secp256k1_wasm.ts";
import { loadNativeBackend } from "./secp256k1_native.node.ts";
import { loadVectors, type SignerCase } from "../../tests/support/vectors.ts";

const vectors: SignerCase[] = (await loadVectors()).signer;

/** Platforms the `secp256k1` package ships a prebuilt addon for. */
const NATIVE_PREBUILT = ["linux-x86_64", "darwin-aarch64", "windows-x86_64"]
  .includes(`${Deno.build.os}-${Deno.build.arch}`);

const backends: Secp256k1Backend[] = [nobleBackend];
const loadFailures: Record<string, string> = {};
for (
  const [name, load] of [
    ["tiny-secp256k1", loadWasmBackend],
    ["secp256k1-native", loadNativeBackend],
  ] as const
) {
  try {
    backends.push(await load());
  } catch (error) {
    loadFailures[name] = (error as Error).message;
  }
}

const N = secp256k1.Point.CURVE().n;
const scalar = (n: bigint): Uint8Array =>
  hexToBytes(n.toString(16).padStart(64, "0"));

Deno.test("the WebAssembly backend loads under -A", () => {
  assert.equal(loadFailures["tiny-secp256k1"], undefined);
});

Deno.test({
  name: "the native backend loads under -A where a prebuilt addon exists",
  ignore: !NATIVE_PREBUILT,
  fn() {
    assert.equal(loadFailures["secp256k1-native"], undefined);
  },
});

Deno.test("there are signer vectors to walk", () => {
  assert.ok(vectors.length >= 6);
  assert.ok(vectors.every((v) => v.signatures.length > 0));
});

for (const backend of backends) {
  const label = `${backend.name} backend`;

  Deno.test(`${label}: getPublicKey() gives every vector's public key`, () => {
    for (const v of vectors) {
      const publicKey = backend.getPublicKey(hexToBytes(v.privateKey));
      assert.equal(bytesToHex(publicKey), v.publicKey, v.username);
    }
  });

  Deno.test(`${label}: sign() reproduces every reference signature byte for byte`, () => {
    let count = 0;
    for (const v of vectors) {
      const privateKey = hexToBytes(v.privateKey);
      for (const s of v.signatures) {
        const signature = backend.sign(sha256(hexToBytes(s.bytes)), privateKey);
        assert.equal(signature.length, 64);
        assert.equal(
          bytesToHex(signature),
          s.signature,
          `${v.name} ${s.bytes}`,
        );
        count++;
      }
    }
    assert.equal(count, vectors.reduce((n, v) => n + v.signatures.length, 0));
  });

  Deno.test(`${label}: verify() agrees with every vector's "verifies"`, () => {
    for (const v of vectors) {
      const publicKey = hexToBytes(v.publicKey);
      for (const s of v.signatures) {
        const ok = backend.verify(
          hexToBytes(s.signature),
          sha256(hexToBytes(s.bytes)),
          publicKey,
        );
        assert.equal(ok, s.verifies, `${v.name} ${s.bytes}`);
      }
    }
  });

  Deno.test(`${label}: verify() returns false for wrong or malformed input`, () => {
    const v = vectors[0];
    const s = v.signatures[2];
    const signature = hexToBytes(s.signature);
    const hash = sha256(hexToBytes(s.bytes));
    const publicKey = hexToBytes(v.publicKey);
    assert.equal(backend.verify(signature, hash, publicKey), true);
    // Wrong key, wrong hash, wrong signature.
    assert.equal(
      backend.verify(signature, hash, hexToBytes(vectors[1].publicKey)),
      false,
    );
    assert.equal(
      backend.verify(signature, sha256(new Uint8Array([1])), publicKey),
      false,
    );
    assert.equal(
      backend.verify(hexToBytes(v.signatures[0].signature), hash, publicKey),
      false,
    );
    // Malleable high-S twin.
    assert.equal(backend.verify(highS(signature), hash, publicKey), false);
    // Out-of-range r / s.
    const r = signature.subarray(0, 32);
    const s2 = signature.subarray(32);
    for (
      const bad of [
        new Uint8Array(32),
        scalar(N),
        scalar(N + 1n),
        new Uint8Array(32).fill(255),
      ]
    ) {
      assert.equal(backend.verify(concat(bad, s2), hash, publicKey), false);
      assert.equal(backend.verify(concat(r, bad), hash, publicKey), false);
    }
    // Wrong lengths and types.
    assert.equal(
      backend.verify(signature.subarray(0, 63), hash, publicKey),
      false,
    );
    assert.equal(
      backend.verify(concat(signature, new Uint8Array(1)), hash, publicKey),
      false,
    );
    assert.equal(backend.verify(new Uint8Array(0), hash, publicKey), false);
    assert.equal(backend.verify(signature, hash.subarray(1), publicKey), false);
    assert.equal(backend.verify(signature, hash, publicKey.subarray(1)), false);
    assert.equal(
      backend.verify(
        signature,
        hash,
        secp256k1.getPublicKey(hexToBytes(v.privateKey), false),
      ),
      false,
    );
    assert.equal(
      backend.verify([...signature] as unknown as Uint8Array, hash, publicKey),
      false,
    );
    assert.equal(
      backend.verify(signature, hash, null as unknown as Uint8Array),
      false,
    );
    // Malformed keys: bad prefix, x not on the curve, x ≥ p.
    const badPrefix = publicKey.slice();
    badPrefix[0] = 4;
    assert.equal(backend.verify(signature, hash, badPrefix), false);
    const flippedPrefix = publicKey.slice();
    flippedPrefix[0] ^= 1; // the other point with this x: valid, but wrong
    assert.equal(backend.verify(signature, hash, flippedPrefix), false);
    assert.equal(
      backend.verify(
        signature,
        hash,
        concat(new Uint8Array([2]), new Uint8Array(32).fill(255)),
      ),
      false,
    );
    assert.equal(
      backend.verify(
        signature,
        hash,
        concat(new Uint8Array([2]), new Uint8Array(32)),
      ),
      false,
    );
  });

  Deno.test(`${label}: rejects invalid private keys and hashes with TypeError/RangeError`, () => {
    const hash = new Uint8Array(32).fill(1);
    for (
      const bad of [new Uint8Array(32), scalar(N), new Uint8Array(32).fill(255)]
    ) {
      assert.throws(() => backend.getPublicKey(bad), RangeError);
      assert.throws(() => backend.sign(hash, bad), RangeError);
    }
    assert.throws(
      () => backend.getPublicKey(new Uint8Array(31).fill(1)),
      RangeError,
    );
    assert.throws(
      () => backend.getPublicKey("01".repeat(32) as unknown as Uint8Array),
      TypeError,
    );
    assert.throws(
      () => backend.sign(new Uint8Array(31), scalar(1n)),
      RangeError,
    );
    assert.throws(
      () => backend.sign(null as unknown as Uint8Array, scalar(1n)),
      TypeError,
    );
    // Boundary keys 1 and n − 1 are valid.
    assert.equal(backend.getPublicKey(scalar(1n)).length, 33);
    assert.equal(backend.getPublicKey(scalar(N - 1n)).length, 33);
  });

  Deno.test(`${label}: passes its self-test`, () => {
    selfTestBackend(backend);
  });

  Deno.test(`${label}: property — sign then verify holds, a flipped bit fails (1,000 runs)`, () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: N - 1n }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat({ max: 64 * 8 - 1 }),
        fc.nat({ max: 32 * 8 - 1 }),
        (d, hash, sigBit, hashBit) => {
          const privateKey = scalar(d);
          const publicKey = backend.getPublicKey(privateKey);
          assert.equal(
            bytesToHex(publicKey),
            bytesToHex(secp256k1.getPublicKey(privateKey, true)),
          );
          const signature = backend.sign(hash, privateKey);
          assert.equal(signature.length, 64);
          // Low S.
          assert.ok(
            BigInt("0x" + bytesToHex(signature.subarray(32))) <= N / 2n,
          );
          assert.equal(backend.verify(signature, hash, publicKey), true);
          const badSignature = signature.slice();
          badSignature[sigBit >> 3] ^= 1 << (sigBit & 7);
          assert.equal(backend.verify(badSignature, hash, publicKey), false);
          const badHash = hash.slice();
          badHash[hashBit >> 3] ^= 1 << (hashBit & 7);
          assert.equal(backend.verify(signature, badHash, publicKey), false);
        },
      ),
      { numRuns: 1000 },
    );
  });
}

if (backends.length > 1) {
  Deno.test("all loaded backends produce identical keys and signatures (500 runs)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: N - 1n }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (d, hash) => {
          const privateKey = scalar(d);
          const [first, ...rest] = backends.map((b) => [
            bytesToHex(b.getPublicKey(privateKey)),
            bytesToHex(b.sign(hash, privateKey)),
          ]);
          for (const other of rest) assert.deepEqual(other, first);
        },
      ),
      { numRuns: 500 },
    );
  });
}

Deno.test("the default backend is noble, and setBackend()/resetBackend() switch it", () => {
  assert.equal(getBackend(), nobleBackend);
  const other = backends.find((b) => b !== nobleBackend);
  try {
    if (other) {
      setBackend(other);
      assert.equal(getBackend(), other);
    }
  } finally {
    resetBackend();
  }
  assert.equal(getBackend(), nobleBackend);
});

Deno.test("setBackend() refuses a backend that fails the self-test, naming it", () => {
  const broken: Secp256k1Backend[] = [
    {
      ...nobleBackend,
      name: "wrong-key",
      getPublicKey: () => new Uint8Array(33),
    },
    {
      ...nobleBackend,
      name: "high-s",
      sign: (h, d) => highS(nobleBackend.sign(h, d)),
    },
    { ...nobleBackend, name: "accepts-all", verify: () => true },
    {
      ...nobleBackend,
      name: "malleable",
      verify: (sig, h, pub) =>
        secp256k1.verify(sig, h, pub, { prehash: false, lowS: false }),
    },
  ];
  for (const backend of broken) {
    assert.throws(
      () => setBackend(backend),
      (error: Error) => error.message.includes(`"${backend.name}"`),
    );
    assert.equal(getBackend(), nobleBackend);
  }
});

Deno.test("useFastestBackend() activates the native backend under -A", async () => {
  try {
    const choice = await useFastestBackend();
    assert.equal(getBackend(), choice.backend);
    if (NATIVE_PREBUILT) {
      assert.equal(choice.backend.name, "secp256k1-native");
      assert.deepEqual(choice.failures, []);
    }
  } finally {
    resetBackend();
  }
});

async function runWithPermissions(flags: string[]): Promise<unknown> {
  const script = `
    import { useFastestBackend } from ${
    JSON.stringify(new URL("./secp256k1.ts", import.meta.url).href)
  };
    const choice = await useFastestBackend();
    console.log(JSON.stringify({ name: choice.backend.name, failures: choice.failures }));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", ...flags, "-"],
    cwd: new URL("../..", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("useFastestBackend() falls back with reasons when permissions are missing", async () => {
  const none = await runWithPermissions([]) as {
    name: string;
    failures: { name: string; reason: string }[];
  };
  assert.equal(none.name, "noble");
  assert.deepEqual(none.failures.map((f) => f.name), [
    "secp256k1-native",
    "tiny-secp256k1",
  ]);
  assert.match(none.failures[0].reason, /--allow-env --allow-read --allow-ffi/);
  assert.match(none.failures[1].reason, /--allow-read/);

  const readOnly = await runWithPermissions(["--allow-read"]) as {
    name: string;
  };
  assert.equal(readOnly.name, "tiny-secp256k1");

  if (NATIVE_PREBUILT) {
    const native = await runWithPermissions([
      "--allow-env",
      "--allow-read",
      "--allow-ffi",
    ]) as { name: string };
    assert.equal(native.name, "secp256k1-native");
  }
});

Deno.test("lib/identity/mod.ts reaches the wasm and native packages only through dynamic import()", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./mod.ts", import.meta.url).href],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [new URL("./mod.ts", import.meta.url).href];
  while (stack.length) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) stack.push(dep.code.specifier);
    }
  }
  const statics = [...seen];
  assert.ok(statics.some((s) => s.endsWith("/signer.ts")));
  assert.deepEqual(
    statics.filter((s) =>
      /secp256k1_(native|wasm)|npm:.*(tiny-)?secp256k1@/.test(s)
    ),
    [],
  );
});

Deno.test("core identity modules never reference Deno.*", async () => {
  for await (const entry of Deno.readDir(new URL(".", import.meta.url))) {
    if (!entry.name.endsWith(".ts") || entry.name.endsWith("_test.ts")) {
      continue;
    }
    const text = await Deno.readTextFile(new URL(entry.name, import.meta.url));
    assert.doesNotMatch(text, /\bDeno\./, entry.name);
  }
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
