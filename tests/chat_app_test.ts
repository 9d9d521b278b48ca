// ChatApp (the chat client, runtime-neutral) against a real chat server in
// process, over Deno's WebSocket: what the browser runs, minus the browser.

import assert from "node:assert/strict";
import { effect } from "@preact/signals-core";
import { ChatApp } from "../lib/chat/app.ts";
import { MemoryIdentityStore } from "../lib/chat/identity.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
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
  const app = (identities = new MemoryIdentityStore()) => {
    const chat = new ChatApp({
      config: server.config,
      registry: new RepoRegistry(),
      sync: registrySync,
      url: server.url.replace("http", "ws"),
      syncOptions: { reconnect: { baseMs: 20, maxMs: 200 } },
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
