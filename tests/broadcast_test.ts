// BroadcastFanout between two registries ("isolates") in this process,
// sharing one Deno KV store and a BroadcastChannel name.

import assert from "node:assert/strict";
import { encodeFrames } from "../lib/codec/frames.ts";
import { bytesToHex } from "../lib/codec/hex.ts";
import { Signer } from "../lib/identity/signer.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { KvStorage, openKvStorage } from "../lib/storage/kv_storage.deno.ts";
import { SharedWriter } from "../lib/registry/shared_writer.ts";
import { addMember } from "../lib/chat/model.ts";
import { Repo } from "../lib/store/repo.ts";
import {
  type BroadcastChannelLike,
  BroadcastFanout,
  type RangeBroadcast,
} from "../lib/sync/broadcast.ts";
import { sameBytes, say, waitFor } from "./support/sync_harness.ts";

Deno.test("fan-out: ranges from the channel are verified and never posted again; a missed broadcast is read from the shared storage; a forged one is refused", async () => {
  const storage = await openKvStorage(":memory:");
  const channel = `fanout-test-${crypto.randomUUID()}`;
  const signer = new Signer("alice", "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const storageErrors: Error[] = [];
  const writerRegistry = new RepoRegistry({
    storage,
    create: (k) => new Repo({ key: k }),
    onError: (e) => storageErrors.push(e),
  });
  const readerRegistry = new RepoRegistry({
    storage,
    onError: (e) => storageErrors.push(e),
  });
  // The reader's channel loses the second broadcast it receives.
  const real = new BroadcastChannel(channel);
  const lossy: BroadcastChannelLike = {
    postMessage: (m) => real.postMessage(m),
    onmessage: null,
    close: () => real.close(),
  };
  let delivered = 0;
  real.onmessage = (event) => {
    if (++delivered !== 2) lossy.onmessage?.(event);
  };
  const writerErrors: Error[] = [];
  const readerErrors: Error[] = [];
  const writer = new BroadcastFanout(writerRegistry, {
    channel,
    onError: (e) => writerErrors.push(e),
  });
  const reader = new BroadcastFanout(readerRegistry, {
    channel: lossy,
    onError: (e) => readerErrors.push(e),
  });
  const outsider = new BroadcastChannel(channel);
  try {
    await readerRegistry.open(key);
    const repo = await writerRegistry.open(key);
    await repo.attachSigner(signer, "chat");
    repo.set({ name: "alice", messages: [] });
    await repo.whenSigned();
    await say(repo, 4);
    await waitFor(
      () => sameBytes(repo, readerRegistry.get(key)),
      "the reader to hold the writer's repo",
    );
    assert.equal(writer.stats.posted, 5, "one broadcast per signed range");
    assert.equal(reader.stats.posted, 0, "nothing received is posted again");
    assert.equal(writer.stats.received, 0, "so the writer hears no echo");
    assert.ok(reader.stats.healed >= 1, "the lost range came from storage");
    await writerRegistry.flush();
    await readerRegistry.flush();
    assert.deepEqual(
      bytesToHex(encodeFrames(await storage.load(key))),
      bytesToHex(encodeFrames(repo.chunksBetween(0))),
      "stored once, byte for byte",
    );

    // A forged continuation: a valid next range with one signature byte
    // flipped, posted by an outsider, reaches no repo and no storage.
    const copy = new Repo({ key });
    copy.appendRange(repo.chunksBetween(0));
    await copy.attachSigner(signer, "chat");
    copy.push("messages", { text: "forged", at: 1 });
    await copy.whenSigned();
    const chunks = copy.chunksBetween(repo.byteLength);
    const frames = encodeFrames(chunks);
    frames[frames.length - 10] ^= 1;
    const forged: RangeBroadcast = { key, offset: repo.byteLength, frames };
    const before = repo.byteLength;
    outsider.postMessage(forged);
    outsider.postMessage({ key: "not a key", offset: 0, frames });
    await waitFor(
      () => readerErrors.length >= 2 && writerErrors.length >= 2,
      "both isolates to refuse the forged range",
    );
    const reasons = readerErrors.map((e) => e.message).join("\n");
    assert.match(reasons, /signature does not verify/);
    assert.match(reasons, /expected \{key, offset, frames\}/);
    assert.equal(repo.byteLength, before);
    assert.equal(readerRegistry.get(key)!.byteLength, before);
    assert.equal(
      (await storage.load(key)).length,
      repo.chunksBetween(0).length,
    );
    assert.deepEqual(storageErrors, []);
  } finally {
    outsider.close();
    real.close();
    await writer.close();
    await reader.close();
    await writerRegistry.close();
    await readerRegistry.close();
    await storage.close();
  }
});

Deno.test("SharedWriter: two servers adding members to one room at once never fork it, and every add lands once", async () => {
  const kv = await Deno.openKv(":memory:");
  // Two "isolates": their own drivers, registries and fan-out, one KV.
  const channel = `shared-writer-test-${crypto.randomUUID()}`;
  const registries = [0, 1].map(() =>
    new RepoRegistry({ storage: new KvStorage(kv) })
  );
  const fanouts = registries.map((r) => new BroadcastFanout(r, { channel }));
  const writers = registries.map((r) => new SharedWriter(r));
  const room = new Signer("room", "pw", 1);
  const roomKey = bytesToHex((await room.keysFor("chat")).publicKey);
  const member = (i: number) => "02" + i.toString(16).padStart(64, "0");
  try {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        writers[i % 2].commit(
          roomKey,
          room,
          "chat",
          // Members 0..29; 30..39 repeat 0..9 through the other writer.
          (draft) => addMember(draft, member(i % 30)),
        )),
    );
    assert.equal(results.filter(Boolean).length, 30, "each member added once");
    const stored = new Repo({ key: roomKey });
    stored.appendRange(await registries[0].storage!.load(roomKey));
    const members = stored.get("members") as string[];
    assert.deepEqual(
      [...members].sort(),
      Array.from({ length: 30 }, (_, i) => member(i)).sort(),
    );
    // Both isolates' copies are the stored stream, byte for byte.
    await waitFor(
      () => registries.every((r) => sameBytes(stored, r.get(roomKey))),
      "both isolates to hold the stored room",
    );
  } finally {
    for (const fanout of fanouts) await fanout.close();
    for (const registry of registries) await registry.close();
    kv.close();
  }
});
