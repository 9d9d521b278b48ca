/**
 * Identity benchmarks: secp256k1 sign/verify rate for each backend that loads,
 * and PBKDF2 cost at the chat's 600,000 iterations.
 *
 *     deno bench -A bench/identity_bench.ts
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import {
  nobleBackend,
  type Secp256k1Backend,
  Signer,
  verifySignature,
} from "../lib/identity/mod.ts";
import { pbkdf2Tail } from "../lib/identity/pbkdf2.ts";
import { loadWasmBackend } from "../lib/identity/secp256k1_wasm.ts";
import { loadNativeBackend } from "../lib/identity/secp256k1_native.node.ts";

const backends: Secp256k1Backend[] = [nobleBackend];
for (const load of [loadWasmBackend, loadNativeBackend]) {
  try {
    backends.push(await load());
  } catch (error) {
    console.error(`skipping backend: ${(error as Error).message}`);
  }
}

const privateKey = sha256(new TextEncoder().encode("bench private key"));
const hash = sha256(new TextEncoder().encode("bench message"));
const chunk = new Uint8Array(1024).map((_, i) => i * 31);

for (const backend of backends) {
  const publicKey = backend.getPublicKey(privateKey);
  const signature = backend.sign(hash, privateKey);
  const chunkSignature = backend.sign(sha256(chunk), privateKey);

  Deno.bench({
    name: `sign (32-byte hash) — ${backend.name}`,
    group: "sign",
    baseline: backend === nobleBackend,
    fn() {
      backend.sign(hash, privateKey);
    },
  });
  Deno.bench({
    name: `verify (32-byte hash) — ${backend.name}`,
    group: "verify",
    baseline: backend === nobleBackend,
    fn() {
      if (!backend.verify(signature, hash, publicKey)) throw new Error("bad");
    },
  });
  Deno.bench({
    name: `verifySignature(1 KiB) incl. SHA-256 — ${backend.name}`,
    group: "verifySignature",
    baseline: backend === nobleBackend,
    fn() {
      if (!verifySignature(publicKey, chunk, chunkSignature, backend)) {
        throw new Error("bad");
      }
    },
  });
  Deno.bench({
    name: `getPublicKey — ${backend.name}`,
    group: "getPublicKey",
    baseline: backend === nobleBackend,
    fn() {
      backend.getPublicKey(privateKey);
    },
  });
}

Deno.bench({
  name: "SHA-256 of 1 KiB (@noble/hashes, sync)",
  group: "sha256",
  fn() {
    sha256(chunk);
  },
});

Deno.bench({
  name: "PBKDF2-HMAC-SHA256, 600,000 iterations (WebCrypto)",
  group: "pbkdf2",
  n: 5,
  warmup: 1,
  async fn() {
    await pbkdf2Tail("correct horse battery staple", "alice", 600_000);
  },
});

Deno.bench({
  name: "Signer: full key derivation at 600,000 iterations (2× PBKDF2)",
  group: "pbkdf2",
  n: 3,
  warmup: 0,
  async fn() {
    await new Signer("alice", "correct horse battery staple", 600_000)
      .keysFor("chat");
  },
});
