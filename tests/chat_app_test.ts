// ChatApp (the chat client, runtime-neutral) against a real chat server in
// process, over Deno's WebSocket: what the browser runs, minus the browser.

import assert from "node:assert/strict";
import { effect } from "@preact/signals-core";
import { ChatApp } from "../lib/chat/app.ts";
import { MemoryIdentityStore } from "../lib/chat/identity.ts";
import {
  type NetworkWatch,
  OnlineTransport,
} from "../lib/chat/online_transport.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import type { Repo } from "../lib/store/repo.ts";
import { registrySync } from "../lib/sync/client.ts";
import { startChatServer } from "../routes/server.ts";

const WAIT_MS = 10_000;

/**
 * Resolves once `check()` is true: re-checked whenever a signal it read
 * changes, and every 20 ms for state that is not reactive (a registry's map).
 */
function until(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const finish = (error?: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      queueMicrotask(stop);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`Timed out waiting until ${what}`)),
      WAIT_MS,
    );
    const poll = setInterval(() => {
      if (check()) finish();
    }, 20);
    let done = false;
    stop = effect(() => {
      if (!done && check()) {
        done = true;
        finish();
      }
    });
  });
}

async function setup() {
  const server = await startChatServer({
    username: "room",
    password: "room",
    dataDir: null,
    port: 0,
    keyIterations: 10,
    heartbeatMs: 100,
    presenceTimeoutMs: 500,
  });
  const apps: ChatApp[] = [];
  const url = server.url.replace("http", "ws");
  const app = (
    identities = new MemoryIdentityStore(),
    network?: NetworkWatch,
  ) => {
    const chat = new ChatApp({
      config: server.config,
      registry: new RepoRegistry(),
      sync: registrySync,
      url,
      syncOptions: {
        reconnect: { baseMs: 20, maxMs: 200 },
        // As in browsers: no socket while the network is down.
        ...(network
          ? {
            connect: () =>
              new OnlineTransport(() => new WebSocket(url), network),
          }
          : {}),
      },
      identities,
    });
    apps.push(chat);
    return chat;
  };
  const close = async () => {
    for (const chat of apps) await chat.close();
    await server.close();
  };
  return { server, app, close };
}

const texts = (chat: ChatApp) =>
  chat.history().map((l) => `${l.name}: ${l.text}`);

Deno.test("two clients sign in, join the room and talk both ways", async () => {
  const { server, app, close } = await setup();
  try {
    const alice = app();
    const bob = app();
    await Promise.all([alice.start(), bob.start()]);
    await until(() => alice.status.value === "open", "alice is connected");
    await alice.signIn("alice", "a", false);
    await bob.signIn("bob", "b", false);
    assert.equal(alice.error.value, undefined);
    alice.send("hello bob");
    await until(
      () => texts(bob).includes("alice: hello bob"),
      "bob has alice's message",
    );
    bob.send("hi alice");
    await until(
      () => texts(alice).includes("bob: hi alice"),
      "alice has bob's reply",
    );
    assert.deepEqual(texts(alice), ["alice: hello bob", "bob: hi alice"]);
    await until(
      () => server.room.members().length === 2,
      "the room lists both",
    );
    // Presence: each sees the other online, then gone when they leave.
    const bobKey = bob.me.value!.key;
    await until(() => alice.online.value.has(bobKey), "alice sees bob online");
    bob.setTyping(true);
    await until(
      () => alice.online.value.get(bobKey)?.typing === true,
      "bob is typing",
    );
    await bob.close();
    await until(() => !alice.online.value.has(bobKey), "bob is gone");
  } finally {
    await close();
  }
});

Deno.test("a new device waits for your history before writing, so nothing forks", async () => {
  const { server, app, close } = await setup();
  try {
    const first = app();
    await first.start();
    await first.signIn("carol", "c", false);
    first.send("from the first device");
    const key = first.me.value!.key;
    await until(
      () => (server.registry.get(key)?.get("messages", "length") ?? 0) === 1,
      "the relay has carol's first message",
    );
    await first.close();

    const second = app();
    await second.start();
    await second.signIn("carol", "c", false);
    assert.equal(second.me.value!.key, key, "same credentials, same key");
    second.send("from the second device");
    await until(
      () => server.registry.get(key)?.get("messages", "length") === 2,
      "the relay has both messages",
    );
    assert.deepEqual(
      (server.registry.get(key)!.get("messages") as { text: string }[]).map((
        m,
      ) => m.text),
      ["from the first device", "from the second device"],
    );
  } finally {
    await close();
  }
});

Deno.test("remember this device restores the identity; sign out forgets it", async () => {
  const { app, close } = await setup();
  try {
    const store = new MemoryIdentityStore();
    const first = app(store);
    await first.start();
    await first.signIn("dave", "d", true);
    const key = first.me.value!.key;
    assert.equal(first.me.value!.remembered, true);
    await first.close();

    const again = app(store);
    await again.start();
    assert.equal(again.me.value?.key, key, "signed in without the password");
    await again.signOut();
    assert.equal(again.me.value, undefined);
    assert.equal(await store.load(), undefined, "the key is forgotten");
    assert.throws(() => again.send("x"), /sign in first/);

    const forgetful = app(store);
    await forgetful.start();
    assert.equal(forgetful.me.value, undefined);
  } finally {
    await close();
  }
});

/** A network a test switches off and on (`navigator.onLine`, in browsers). */
class SwitchedNetwork implements NetworkWatch {
  #up = true;
  readonly #listeners = new Set<(online: boolean) => void>();
  online(): boolean {
    return this.#up;
  }
  onChange(fn: (online: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
  set(up: boolean): void {
    this.#up = up;
    for (const fn of [...this.#listeners]) fn(up);
  }
}

const messageTexts = (repo: Repo | undefined) =>
  ((repo?.get("messages") ?? []) as { text: string }[]).map((m) => m.text);

/** Whether two copies of a repo hold the same signed history. */
function sameHistory(a: Repo | undefined, b: Repo | undefined): boolean {
  if (!a || !b || a.signedLength !== b.signedLength) return false;
  if (a.byteLength !== a.signedLength || b.byteLength !== b.signedLength) {
    return false;
  }
  return JSON.stringify(a.checkpoints(1 << 20)) ===
    JSON.stringify(b.checkpoints(1 << 20));
}

Deno.test("one identity on two devices: both write while apart, the second to sync merges and says so, nothing is lost or doubled", async () => {
  const { server, app, close } = await setup();
  try {
    const laptopNet = new SwitchedNetwork();
    const phoneNet = new SwitchedNetwork();
    const laptop = app(undefined, laptopNet);
    const phone = app(undefined, phoneNet);
    await laptop.start();
    await laptop.signIn("gail", "g", false);
    laptop.send("from the laptop, online");
    const key = laptop.me.value!.key;
    const relayTexts = () => messageTexts(server.registry.get(key));
    await until(() => relayTexts().length === 1, "the relay has 1 message");
    await phone.start();
    await phone.signIn("gail", "g", false);
    assert.equal(phone.me.value!.key, key);
    phone.send("from the phone, online");
    await until(() => relayTexts().length === 2, "the relay has 2 messages");
    await until(
      () => messageTexts(laptop.registry.get(key)).length === 2,
      "the laptop has the phone's message",
    );

    // Apart: each writes what the other cannot see.
    laptopNet.set(false);
    phoneNet.set(false);
    await until(
      () =>
        laptop.status.value === "reconnecting" &&
        phone.status.value === "reconnecting",
      "both are offline",
    );
    laptop.send("laptop, offline 1");
    laptop.send("laptop, offline 2");
    phone.send("phone, offline");
    await laptop.registry.get(key)!.whenSigned();
    await phone.registry.get(key)!.whenSigned();

    // The laptop syncs first: the relay keeps its history.
    laptopNet.set(true);
    await until(() => relayTexts().length === 4, "the relay has the laptop's");
    const notices: unknown[] = [];
    phone.onRebase((notice) => notices.push(notice));
    phoneNet.set(true);
    await until(() => phone.rebased.value !== undefined, "the phone merged");
    assert.deepEqual(
      { ...phone.rebased.value, at: 0 },
      { key, theirs: 2, ours: 1, conflicts: 0, at: 0 },
    );
    assert.equal(notices.length, 1);
    assert.equal(laptop.rebased.value, undefined, "the laptop had no fork");

    const all = [
      "from the laptop, online",
      "from the phone, online",
      "laptop, offline 1",
      "laptop, offline 2",
      "phone, offline",
    ];
    await until(
      () =>
        sameHistory(phone.registry.get(key), server.registry.get(key)) &&
        sameHistory(laptop.registry.get(key), server.registry.get(key)),
      "the devices and the relay hold one history",
    );
    assert.deepEqual(relayTexts(), all, "one history, every message once");
    const shown = (chat: ChatApp) =>
      chat.history().filter((l) => l.key === key).map((l) => l.text).sort();
    assert.deepEqual(shown(phone), [...all].sort());
    assert.deepEqual(shown(laptop), [...all].sort());

    phone.dismissRebase();
    assert.equal(phone.rebased.value, undefined);
  } finally {
    await close();
  }
});

Deno.test("signing out detaches the key: the signed-out client can no longer sign your repo", async () => {
  const { server, app, close } = await setup();
  try {
    const chat = app();
    await chat.start();
    await chat.signIn("hana", "h", false);
    const key = chat.me.value!.key;
    chat.send("signed");
    const repo = chat.registry.get(key)!;
    await until(
      () => messageTexts(server.registry.get(key)).length === 1,
      "the relay has the signed message",
    );
    assert.equal(repo.canSign, true);
    await chat.signOut();
    assert.equal(repo.canSign, false, "no signer after sign-out");
    const signed = repo.signedLength;
    repo.push("messages", { text: "forged after sign-out", at: Date.now() });
    await repo.whenSigned();
    assert.equal(repo.signedLength, signed, "the new commit stays unsigned");
    assert.ok(repo.byteLength > signed);
    assert.throws(() => chat.send("x"), /sign in first/);
  } finally {
    await close();
  }
});
