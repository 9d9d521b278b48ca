import assert from "node:assert/strict";
import { effect } from "@preact/signals-core";
import { Signer, verifySignature } from "../identity/signer.ts";
import { hexToBytes } from "../codec/hex.ts";
import type { Signature } from "../codec/signature.ts";
import { Repo } from "./repo.ts";

const alice = new Signer("alice", "pw", 1);

Deno.test("Repo.commit() links parent commits and history() walks them newest first", () => {
  let t = 1000;
  const repo = new Repo({ now: () => t++ });
  const first = repo.set({ n: 1 });
  const second = repo.set("n", 2);
  const working = repo.checkout();
  working.set("n", 3);
  const third = repo.commit(working, "three");
  const history = repo.history();
  assert.deepEqual(history.map((c) => c.address), [third, second, first]);
  assert.deepEqual(history.map((c) => c.parent), [second, first, undefined]);
  assert.deepEqual(history.map((c) => c.message), ["three", "", ""]);
  assert.deepEqual(history.map((c) => c.date.getTime()), [1002, 1001, 1000]);
  assert.deepEqual(repo.get(), { n: 3 });
  assert.deepEqual(repo.decode(history[1].dataAddress), { n: 2 });
});

Deno.test("Repo.push() appends in O(log n) bytes, flat as the array grows", () => {
  const repo = new Repo({ now: () => 0 });
  repo.set({ name: "alice", messages: [] });
  const costs = new Map<number, number>();
  for (let i = 0; i < 4096; i++) {
    const before = repo.byteLength;
    repo.push("messages", { text: "message " + i, at: i });
    if ((i & (i + 1)) === 0 || i === 4095) {
      costs.set(i + 1, repo.byteLength - before);
    }
  }
  assert.equal(repo.get("messages", "length"), 4096);
  assert.deepEqual(repo.get("messages", 4095), {
    text: "message 4095",
    at: 4095,
  });
  assert.deepEqual(repo.get("messages", 17), { text: "message 17", at: 17 });
  // Each push writes the new item, the tree's right spine (≤ log2 n nodes of
  // ≤ 9 bytes), the root object and a commit record: a few hundred bytes.
  for (const [n, cost] of costs) {
    assert.ok(cost < 400, `push #${n} appended ${cost} bytes`);
  }
});

Deno.test("Repo.set() at an index rewrites one path and keeps every other item", () => {
  const repo = new Repo({ now: () => 0 });
  const items = Array.from({ length: 100 }, (_, i) => ({ i }));
  repo.set({ items });
  const before = repo.byteLength;
  repo.set("items", 42, { i: -42 });
  assert.ok(repo.byteLength - before < 300);
  const expected = items.slice();
  expected[42] = { i: -42 };
  assert.deepEqual(repo.get("items"), expected);
});

Deno.test("Repo whole-value set appends only chunks not stored yet", () => {
  const repo = new Repo({ now: () => 0 });
  const value = {
    name: "alice",
    messages: [{ text: "hi", at: 1 }, { text: "yo", at: 2 }],
  };
  repo.set(value);
  const before = repo.byteLength;
  repo.set(structuredClone(value));
  // Only a new commit record: the value's code is found, nothing re-stored.
  const commitBytes = repo.byteLength - before;
  assert.ok(commitBytes < 80, `${commitBytes} bytes`);
  assert.equal(repo.history()[0].dataAddress, repo.history()[1].dataAddress);
});

Deno.test("Repo auto-signs: commits in one tick share a signature that verifies", async () => {
  let t = 0;
  const repo = new Repo({ now: () => t++ });
  await repo.attachSigner(alice, "chat");
  repo.set({ messages: [] });
  repo.push("messages", "a");
  repo.push("messages", "b");
  await repo.whenSigned();
  assert.equal(repo.signedLength, repo.byteLength);
  const signatures = repo.chunksBetween(0).filter((c) =>
    c[c.length - 1] >= 158 && c[c.length - 1] < 162
  );
  assert.equal(signatures.length, 1, "one signature for the batch");
  const signature = repo.decode(repo.byteLength - 1) as Signature;
  const start = repo.lastSignatureStart;
  assert.ok(
    verifySignature(
      hexToBytes(repo.key!),
      repo.slice(signature.address, start - 1),
      signature.bytes,
    ),
  );
  repo.push("messages", "c");
  await repo.whenSigned();
  const next = repo.decode(repo.byteLength - 1) as Signature;
  assert.equal(
    next.address,
    start,
    "a signature covers from where the previous one starts",
  );
});

Deno.test("Repo.attachSigner() refuses a signer whose key is not the repo's", async () => {
  const repo = new Repo({ key: "02" + "ab".repeat(32) });
  await assert.rejects(() => repo.attachSigner(alice, "chat"), TypeError);
});

Deno.test("Repo readers re-run on new commits of the path they read, not others", () => {
  let t = 0;
  const repo = new Repo({ now: () => t++ });
  repo.set({ name: "alice", messages: [] });
  let names = 0;
  let lengths = 0;
  const stopName = effect(() => {
    repo.get("name");
    names++;
  });
  const stopLength = effect(() => {
    repo.get("messages", "length");
    lengths++;
  });
  repo.push("messages", "hi");
  repo.push("messages", "there");
  repo.set("name", "alice b.");
  stopName();
  stopLength();
  assert.equal(names, 2);
  assert.equal(lengths, 3);
});

Deno.test("Repo.lastCommit is reactive and undefined on an empty repo", () => {
  const repo = new Repo({ now: () => 5 });
  const seen: (number | undefined)[] = [];
  const stop = effect(() => void seen.push(repo.lastCommit?.address));
  const address = repo.set({ a: 1 });
  stop();
  assert.deepEqual(seen, [undefined, address]);
});

Deno.test("Repo.rebaseOnto() adopts the accepted history and re-commits our messages on top", async () => {
  let t = 1000;
  const clock = () => t++;
  const laptop = new Repo({ now: clock });
  await laptop.attachSigner(alice, "chat");
  laptop.set({ name: "alice", messages: [] });
  laptop.push("messages", { text: "shared", at: 1 });
  await laptop.whenSigned();
  // The phone has the same history, then both write while apart.
  const phone = new Repo({ key: laptop.key, now: clock });
  phone.appendRange(laptop.chunksBetween(0));
  await phone.attachSigner(alice, "chat");
  const shared = laptop.byteLength;
  laptop.push("messages", { text: "from laptop", at: 2 });
  laptop.push("messages", { text: "laptop again", at: 3 });
  await laptop.whenSigned();
  phone.push("messages", { text: "from phone", at: 4 });
  phone.set("name", "alice");
  await phone.whenSigned();
  const rewrites: number[] = [];
  phone.onRewrite((range) => rewrites.push(range.offset));
  const verified: number[] = [];
  phone.onVerified((range) => verified.push(range.offset));
  // The laptop's continuation was accepted first: the phone rebases.
  const result = await phone.rebaseOnto(laptop);
  assert.equal(result.forkLength, shared);
  assert.deepEqual(rewrites, [shared]);
  assert.deepEqual(verified, [], "a rebase reports one rewrite, not appends");
  assert.deepEqual(result.conflicts, []);
  const texts = (phone.get("messages") as { text: string }[]).map((m) =>
    m.text
  );
  assert.deepEqual(texts, [
    "shared",
    "from laptop",
    "laptop again",
    "from phone",
  ]);
  // The laptop's bytes are a prefix of the phone's: it can fast-forward.
  assert.deepEqual(phone.slice(0, laptop.byteLength), laptop.slice());
  assert.equal(phone.signedLength, phone.byteLength);
  await laptop.rebaseOnto(phone);
  assert.deepEqual(laptop.slice(), phone.slice());
  assert.equal(laptop.history().length, phone.history().length);
});

Deno.test("Repo.detachSigner() stops signing until a signer is attached again", async () => {
  const repo = new Repo({ now: () => 1 });
  await repo.attachSigner(alice, "chat");
  repo.set({ n: 1 });
  await repo.whenSigned();
  repo.detachSigner();
  assert.equal(repo.canSign, false);
  repo.set("n", 2);
  await repo.whenSigned();
  assert.ok(repo.signedLength < repo.byteLength, "not signed after detach");
  await repo.attachSigner(alice, "chat");
  assert.equal(
    repo.signedLength,
    repo.byteLength,
    "signed once attached again",
  );
});
