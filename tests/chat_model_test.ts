// The chat's data model (SPEC §7), presence and identities, without a network.

import assert from "node:assert/strict";
import { effect } from "@preact/signals-core";
import { Repo } from "../lib/store/repo.ts";
import { Signer } from "../lib/identity/signer.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import {
  addMember,
  type ChatLine,
  cleanName,
  initProfile,
  isKeyHex,
  MAX_MESSAGE_LENGTH,
  mergeLines,
  postMessage,
  roomHistory,
  roomMemberList,
  roomMembers,
  tailMessages,
} from "../lib/chat/model.ts";
import { parsePresence, PresenceTracker } from "../lib/chat/presence.ts";
import {
  deriveIdentity,
  KeySigner,
  MemoryIdentityStore,
  parseStoredIdentity,
} from "../lib/chat/identity.ts";
import { openChatRoom } from "../lib/chat/room.ts";

const A = "02" + "aa".repeat(32);
const B = "03" + "bb".repeat(32);

function line(key: string, index: number, at: number): ChatLine {
  return {
    id: `${key}:${index}`,
    key,
    index,
    name: key.slice(0, 2),
    text: `${index}`,
    at,
  };
}

Deno.test("members: added once each, in joining order; junk in the list is ignored", () => {
  const room = new Repo();
  assert.equal(addMember(room, A), true);
  assert.deepEqual(room.get(), { members: [A] });
  assert.equal(addMember(room, B), true);
  assert.equal(addMember(room, A), false);
  assert.deepEqual(roomMembers(room), [A, B]);
  room.push("members", "not a key");
  room.push("members", A);
  assert.deepEqual(roomMembers(room), [A, B]);
  assert.throws(() => addMember(room, "02zz"), TypeError);
  assert.ok(isKeyHex(A) && !isKeyHex(A.toUpperCase()));
});

Deno.test("profile and messages use the reference shape { name, messages: [{ text, at }] }", () => {
  const repo = new Repo({ now: () => 0 });
  assert.equal(initProfile(repo, "  alice  "), true);
  assert.deepEqual(repo.get(), { name: "alice", messages: [] });
  assert.equal(initProfile(repo, "alice"), false, "nothing to change");
  postMessage(repo, "  hello\nworld  ", 1000);
  postMessage(repo, "second", 2000);
  assert.deepEqual(repo.get(), {
    name: "alice",
    messages: [{ text: "hello\nworld", at: 1000 }, {
      text: "second",
      at: 2000,
    }],
  });
  assert.throws(() => postMessage(repo, "   "), /empty/);
  assert.throws(
    () => postMessage(repo, "x".repeat(MAX_MESSAGE_LENGTH + 1)),
    /the most is 4000/,
  );
  assert.throws(() => cleanName(""), /empty/);
  initProfile(repo, "alice b.");
  assert.equal(repo.get("name"), "alice b.");
  assert.equal(repo.get("messages", "length"), 2, "renaming keeps messages");
});

Deno.test("tailMessages reads the last n well-formed messages with their indexes", () => {
  const repo = new Repo({ now: () => 0 });
  repo.set({ name: "x", messages: [] });
  for (let i = 0; i < 10; i++) repo.push("messages", { text: `m${i}`, at: i });
  repo.push("messages", { text: 42 });
  assert.deepEqual(
    tailMessages(repo, 3).map((m) => [m.index, m.message.text]),
    [[8, "m8"], [9, "m9"]],
    "the malformed last item is skipped",
  );
  assert.deepEqual(tailMessages(undefined), []);
});

Deno.test("mergeLines orders by at, then key, then index, drops repeats and keeps the last n", () => {
  const merged = mergeLines([
    [line(B, 0, 5), line(B, 1, 10)],
    [line(A, 0, 10), line(A, 1, 1)],
    [line(B, 0, 5)],
  ]);
  assert.deepEqual(merged.map((l) => l.id), [
    `${A}:1`,
    `${B}:0`,
    `${A}:0`,
    `${B}:1`,
  ]);
  assert.deepEqual(mergeLines([merged], 2).map((l) => l.id), [
    `${A}:0`,
    `${B}:1`,
  ]);
});

Deno.test("roomHistory merges all members by at, with names, and re-runs on a new message only", () => {
  const room = new Repo();
  const repos = new Map<string, Repo>();
  for (const [key, name] of [[A, "alice"], [B, "bob"]]) {
    const repo = new Repo({ now: () => 0 });
    initProfile(repo, name);
    repos.set(key, repo);
    addMember(room, key);
  }
  repos.get(A)!.push("messages", { text: "a1", at: 10 });
  repos.get(B)!.push("messages", { text: "b1", at: 5 });
  repos.get(A)!.push("messages", { text: "a2", at: 20 });
  const seen: string[][] = [];
  const stop = effect(() => {
    seen.push(
      roomHistory(room, (k) => repos.get(k)).map((l) => `${l.name}:${l.text}`),
    );
  });
  assert.deepEqual(seen.at(-1), ["bob:b1", "alice:a1", "alice:a2"]);
  repos.get(B)!.push("messages", { text: "b2", at: 15 });
  assert.deepEqual(seen.at(-1), ["bob:b1", "alice:a1", "bob:b2", "alice:a2"]);
  repos.get(B)!.set("name", "robert");
  assert.deepEqual(seen.at(-1), [
    "robert:b1",
    "alice:a1",
    "robert:b2",
    "alice:a2",
  ]);
  stop();
  assert.equal(seen.length, 3);
  assert.deepEqual(roomMemberList(room, (k) => repos.get(k)), [
    { key: A, name: "alice" },
    { key: B, name: "robert" },
  ]);
  // A member whose repo has not arrived shows by short key, with no lines.
  const C = "02" + "cc".repeat(32);
  addMember(room, C);
  assert.equal(roomMemberList(room, (k) => repos.get(k))[2].name, "02cccccc…");
});

Deno.test("presence: online until the ttl ends or a goodbye; typing expires", () => {
  let now = 0;
  const tracker = new PresenceTracker({ timeoutMs: 1000, now: () => now });
  const versions: number[] = [];
  const stop = effect(() => void versions.push(tracker.online.value.size));
  tracker.update({ key: A, name: "alice" });
  tracker.update({ key: B, name: "bob", typing: true }, 500);
  assert.equal(tracker.online.value.get(B)?.typing, true);
  now = 400;
  tracker.update({ key: A, name: "alice" }); // heartbeat: no re-render
  assert.equal(versions.length, 3);
  now = 600;
  tracker.sweep();
  assert.deepEqual([...tracker.online.value.keys()], [A], "bob's ttl ended");
  tracker.update({ key: A, online: false });
  assert.equal(tracker.online.value.size, 0);
  tracker.update({ key: B, typing: true });
  now = 7000;
  tracker.update({ key: B });
  tracker.sweep();
  assert.equal(
    tracker.online.value.get(B)?.typing,
    false,
    "typing ends by itself",
  );
  stop();
  assert.equal(parsePresence({ key: "nope" }), undefined);
  assert.deepEqual(
    parsePresence({ key: A, name: "x".repeat(100), typing: 1 }),
    {
      key: A,
      name: "x".repeat(64),
    },
  );
});

Deno.test("deriveIdentity gives the Signer's key (SPEC §4) and reports progress", async () => {
  const progress: number[] = [];
  const identity = await deriveIdentity(
    "alice",
    "pw",
    10,
    "chat",
    (p) => progress.push(p.done),
  );
  assert.equal(
    identity.key,
    await new Signer("alice", "pw", 10).publicKeyHex("chat"),
  );
  assert.deepEqual(progress, [0, 1, 2]);
  const other = await deriveIdentity("alice", "pw2", 10, "chat");
  assert.notEqual(
    other.key,
    identity.key,
    "a different password is a different identity",
  );
  await assert.rejects(
    () => deriveIdentity("", "pw", 10, "chat"),
    /username is empty/,
  );
  await assert.rejects(
    () => deriveIdentity("a", "", 10, "chat"),
    /password is empty/,
  );

  // A remembered key signs the repo without the password.
  const store = new MemoryIdentityStore();
  await store.save(identity);
  const loaded = parseStoredIdentity(await store.load())!;
  const repo = new Repo({ key: identity.key });
  await repo.attachSigner(new KeySigner(loaded), "chat");
  repo.set({ name: "alice", messages: [] });
  await repo.whenSigned();
  assert.equal(repo.signedLength, repo.byteLength);
  await assert.rejects(
    () => new KeySigner(loaded).keysFor("notes"),
    /only remembers/,
  );
  assert.equal(
    parseStoredIdentity({ ...loaded, key: B }),
    undefined,
    "a tampered record is refused",
  );
});

Deno.test("openChatRoom creates { members: [] } once and adds announced keys in its topic", async () => {
  const registry = new RepoRegistry();
  const signer = new Signer("server", "pw", 1);
  const room = await openChatRoom(registry, signer);
  assert.deepEqual(room.repo.get(), { members: [] });
  assert.equal(room.announce({ key: A, topic: room.key }), true);
  assert.equal(room.announce({ key: A, topic: room.key }), false);
  assert.equal(room.announce({ key: B, topic: "elsewhere" }), false);
  assert.equal(room.announce({ key: room.key, topic: room.key }), false);
  assert.deepEqual(room.members(), [A]);
  const again = await openChatRoom(registry, signer);
  assert.deepEqual(again.members(), [A], "reopening keeps the members");
  await room.repo.whenSigned();
  assert.equal(
    room.repo.signedLength,
    room.repo.byteLength,
    "the room signs its writes",
  );
  await registry.close();
});
