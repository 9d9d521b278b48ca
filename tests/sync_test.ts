/**
 * Sync over real WebSockets on 127.0.0.1 against real `Deno.serve` relays:
 * convergence, discovery, routing, presence, chains, resume, restarts,
 * hostile input, limits and reference interop.
 */

import assert from "node:assert/strict";
import {
  bytesToHex,
  encodeFrames,
  hexToBytes,
  Ingest,
  registrySync,
  type RejectEvent,
  Repo,
  RepoRegistry,
  repoSync,
  type SyncSession,
  type Transport,
} from "../lib/mod.ts";
import { MemoryStorage } from "./support/memory_storage.ts";
import {
  chatRepo,
  closeAll,
  rawPeer,
  registryWith,
  sameBytes,
  say,
  startServer,
  type TestServer,
  waitFor,
} from "./support/sync_harness.ts";

const FAST = { baseMs: 20, maxMs: 200 };

function session(
  registry: RepoRegistry,
  server: TestServer,
  options: Partial<Parameters<typeof registrySync>[1]> = {},
): SyncSession {
  return registrySync(registry, {
    url: server.url,
    keepaliveMs: 0,
    reconnect: FAST,
    ...options,
  });
}

/** A session whose current WebSocket the test can kill. */
function killable(
  registry: RepoRegistry,
  server: TestServer,
  options: Partial<Parameters<typeof registrySync>[1]> = {},
): { session: SyncSession; kill: () => void } {
  let ws: WebSocket | undefined;
  const s = registrySync(registry, {
    connect: () => (ws = new WebSocket(server.url)) as Transport,
    keepaliveMs: 0,
    reconnect: FAST,
    ...options,
  });
  return { session: s, kill: () => ws?.close() };
}

function isSignature(chunk: Uint8Array): boolean {
  const f = chunk[chunk.length - 1];
  return f >= 158 && f < 162;
}

function dataMessage(key: string, chunks: Uint8Array[]): Uint8Array {
  const frames = encodeFrames(chunks);
  const out = new Uint8Array(33 + frames.length);
  out.set(hexToBytes(key), 0);
  out.set(frames, 33);
  return out;
}

Deno.test("two registries converge through a relay, both ways", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  const bob = await chatRepo("bob");
  await say(alice.repo, 3);
  await say(bob.repo, 2);
  const ra = registryWith(alice.repo);
  const rb = registryWith(bob.repo);
  await ra.open(alice.key);
  await rb.open(bob.key);
  const sa = session(ra, server);
  const sb = session(rb, server);
  try {
    await waitFor(
      () =>
        sameBytes(alice.repo, rb.get(alice.key)) &&
        sameBytes(bob.repo, ra.get(bob.key)),
      "both registries to hold both repos",
    );
    assert.equal(rb.get(alice.key)!.get("messages", "length"), 3);
    assert.equal(ra.get(bob.key)!.get("name"), "bob");
    assert.equal(sa.status.value, "open");
  } finally {
    await closeAll(sa, sb, server);
  }
});

Deno.test("changes after connect propagate live, in batches, to every subscriber", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const readers = [new RepoRegistry(), new RepoRegistry()];
  const sa = session(ra, server);
  const sessions = readers.map((r) => session(r, server));
  try {
    await Promise.all(sessions.map((s) => s.synced(alice.key)));
    await say(alice.repo, 20);
    await waitFor(
      () => readers.every((r) => sameBytes(alice.repo, r.get(alice.key))),
      "readers to get the live commits",
    );
    assert.deepEqual(
      readers[1].get(alice.key)!.get("messages", 19),
      alice.repo.get("messages", 19),
    );
  } finally {
    await Promise.all([sa, ...sessions].map((s) => s.close()));
    await server.close();
  }
});

Deno.test("a repo opened after connect is announced by catalog and synced", async () => {
  const server = startServer();
  const ra = new RepoRegistry({
    create: (key) => own.get(key) ?? new Repo({ key }),
  });
  const own = new Map<string, Repo>();
  const rb = new RepoRegistry();
  const sa = session(ra, server);
  const sb = session(rb, server);
  try {
    await Promise.all([sa.ready, sb.ready]);
    const carol = await chatRepo("carol");
    own.set(carol.key, carol.repo);
    await ra.open(carol.key);
    await say(carol.repo, 2);
    await waitFor(
      () => sameBytes(carol.repo, rb.get(carol.key)),
      "the late repo to reach the other client",
    );
  } finally {
    await closeAll(sa, sb, server);
  }
});

Deno.test("a client's filter keeps catalog keys it does not accept out", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  const bob = await chatRepo("bob");
  const ra = registryWith(alice.repo, bob.repo);
  await ra.open(alice.key);
  await ra.open(bob.key);
  const rc = new RepoRegistry();
  const sa = session(ra, server);
  const sc = session(rc, server, { filter: (key) => key === alice.key });
  try {
    await waitFor(
      () => sameBytes(bob.repo, server.registry.get(bob.key)),
      "the relay to hold bob",
    );
    await waitFor(
      () => sameBytes(alice.repo, rc.get(alice.key)),
      "the client to get alice",
    );
    await say(bob.repo, 1);
    await waitFor(
      () => sameBytes(bob.repo, server.registry.get(bob.key)),
      "the relay to get bob's new commit",
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rc.has(bob.key), false, "bob must not be synced");
  } finally {
    await closeAll(sa, sc, server);
  }
});

Deno.test("follow discovers the members a room lists, and keeps discovering as the list grows", async () => {
  const room = await chatRepo("room");
  room.repo.set("members", []);
  await room.repo.whenSigned();
  const server = startServer({ registry: registryWith(room.repo) });
  await server.registry.open(room.key);
  const alice = await chatRepo("alice");
  const bob = await chatRepo("bob");
  const writers = [alice, bob].map((w) => {
    const r = registryWith(w.repo);
    return { r, s: session(r, server), w };
  });
  for (const { r, w } of writers) await r.open(w.key);
  const reader = new RepoRegistry();
  const s = session(reader, server, {
    filter: (key) => key === room.key,
    follow: (key, repo, subscribe) => {
      if (key !== room.key) return;
      for (const m of (repo.get("members") as string[] | undefined) ?? []) {
        subscribe(m);
      }
    },
  });
  try {
    await waitFor(() => sameBytes(room.repo, reader.get(room.key)), "the room");
    await waitFor(
      () => sameBytes(bob.repo, server.registry.get(bob.key)),
      "the relay to hold bob",
    );
    room.repo.push("members", alice.key);
    await waitFor(
      () => sameBytes(alice.repo, reader.get(alice.key)),
      "alice, the first member",
    );
    assert.equal(reader.has(bob.key), false);
    room.repo.push("members", bob.key);
    await waitFor(
      () => sameBytes(bob.repo, reader.get(bob.key)),
      "bob, added to the list later",
    );
    await say(bob.repo, 2);
    await waitFor(
      () => sameBytes(bob.repo, reader.get(bob.key)),
      "bob's later messages",
    );
  } finally {
    await Promise.all([s, ...writers.map((w) => w.s)].map((x) => x.close()));
    await server.close();
  }
});

Deno.test("interest/announce routing reaches only interested peers and the relay's handler", async () => {
  const announced: string[] = [];
  const server = startServer({
    onAnnounce: ({ key, topic }) => announced.push(`${topic}:${key}`),
  });
  const room = "03" + "ab".repeat(32);
  const alice = "02" + "11".repeat(32);
  const got = { a: [] as string[], b: [] as string[], c: [] as string[] };
  const a = session(new RepoRegistry(), server, {
    onAnnounce: ({ key }) => got.a.push(key),
  });
  const b = session(new RepoRegistry(), server, {
    onAnnounce: ({ key }) => got.b.push(key),
  });
  const c = session(new RepoRegistry(), server, {
    onAnnounce: ({ key }) => got.c.push(key),
  });
  try {
    await Promise.all([a.ready, b.ready, c.ready]);
    a.interest(room);
    b.interest(room);
    await b.synced("02" + "22".repeat(32)); // a round trip: the interest is in
    await a.synced("02" + "22".repeat(32));
    c.announce(alice, room);
    await waitFor(
      () => got.a.length === 1 && got.b.length === 1,
      "both interested peers to get the announce",
    );
    a.announce("02" + "33".repeat(32), room);
    await waitFor(() => got.b.length === 2, "b to get a's announce");
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(
      got.a,
      [alice],
      "the sender does not get its own announce",
    );
    assert.deepEqual(got.c, [], "an uninterested peer gets nothing");
    assert.deepEqual(announced, [
      `${room}:${alice}`,
      `${room}:${"02" + "33".repeat(32)}`,
    ]);
  } finally {
    await Promise.all([a, b, c].map((s) => s.close()));
    await server.close();
  }
});

Deno.test("presence reaches interested peers, is never stored, and goes when its sender does", async () => {
  const storage = new MemoryStorage();
  const server = startServer({}, { storage });
  const room = "03" + "cd".repeat(32);
  const me = "02" + "44".repeat(32);
  const seen: { state: unknown; key?: string }[] = [];
  const late: unknown[] = [];
  const a = session(new RepoRegistry(), server);
  const b = session(new RepoRegistry(), server, {
    onPresence: (p) => seen.push({ state: p.state, key: p.key }),
  });
  const c = session(new RepoRegistry(), server);
  try {
    await Promise.all([a.ready, b.ready, c.ready]);
    b.interest(room);
    await b.synced(me);
    a.presence(room, { typing: true }, { key: me, ttl: 10_000 });
    await waitFor(() => seen.length === 1, "b to see a's presence");
    assert.deepEqual(seen[0], { state: { typing: true }, key: me });
    const d = session(new RepoRegistry(), server, {
      onPresence: (p) => late.push(p.state),
    });
    d.interest(room);
    await waitFor(() => late.length === 1, "a newcomer to get the snapshot");
    assert.deepEqual(late, [{ typing: true }]);
    await d.close();
    await a.close();
    await waitFor(() => seen.length === 2, "b to see a leave");
    assert.deepEqual(seen[1], { state: null, key: me });
    assert.deepEqual(server.server.relay.presence(room), []);
    assert.equal(storage.appends.length, 0, "presence is never stored");
    assert.equal(server.registry.has(room), false);
  } finally {
    await Promise.all([a, b, c].map((s) => s.close()));
    await server.close();
  }
});

Deno.test("a 3-relay chain carries data both ways", async () => {
  const top = startServer();
  const middle = startServer();
  const bottom = startServer();
  const up1 = session(middle.registry, top);
  const up2 = session(bottom.registry, middle);
  const alice = await chatRepo("alice");
  const bob = await chatRepo("bob");
  const ra = registryWith(alice.repo);
  const rb = registryWith(bob.repo);
  await ra.open(alice.key);
  await rb.open(bob.key);
  const sa = session(ra, top, { filter: () => false });
  const sb = session(rb, bottom, { filter: () => false });
  try {
    sa.subscribe(bob.key);
    sb.subscribe(alice.key);
    await waitFor(
      () =>
        sameBytes(alice.repo, rb.get(alice.key)) &&
        sameBytes(bob.repo, ra.get(bob.key)),
      "both ends to get each other's repo through three relays",
    );
    await say(alice.repo, 2);
    await say(bob.repo, 3);
    await waitFor(
      () =>
        sameBytes(alice.repo, rb.get(alice.key)) &&
        sameBytes(bob.repo, ra.get(bob.key)),
      "live commits to cross the chain both ways",
    );
    assert.ok(sameBytes(alice.repo, middle.registry.get(alice.key)));
    assert.equal(middle.registry.get(alice.key)!.history().length, 3);
  } finally {
    await Promise.all([sa, sb, up1, up2].map((s) => s.close()));
    await Promise.all([top, middle, bottom].map((s) => s.close()));
  }
});

Deno.test("a client offline while others wrote catches up by resume, not a full replay", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  await say(alice.repo, 30);
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const sa = session(ra, server);
  const rb = new RepoRegistry();
  const b = killable(rb, server);
  try {
    await b.session.synced(alice.key);
    await waitFor(() => sameBytes(alice.repo, rb.get(alice.key)), "first sync");
    b.kill();
    await waitFor(() => b.session.status.value !== "open", "b to drop");
    const before = b.session.stats.bytesReceived;
    const length = alice.repo.byteLength;
    await say(alice.repo, 5);
    await waitFor(() => b.session.status.value === "open", "b to reconnect");
    await waitFor(() => sameBytes(alice.repo, rb.get(alice.key)), "catch-up");
    const caughtUp = b.session.stats.bytesReceived - before;
    const missed = alice.repo.byteLength - length;
    assert.ok(
      caughtUp < alice.repo.byteLength / 2,
      `resume received ${caughtUp} bytes; a full replay is ${alice.repo.byteLength}`,
    );
    assert.ok(caughtUp >= missed, "at least the missed bytes came");
    assert.equal(b.session.stats.connections, 2);
  } finally {
    await closeAll(sa, b.session, server);
  }
});

Deno.test("clients reconnect on their own after the relay restarts, and converge", async () => {
  let server = startServer();
  const port = server.port;
  const alice = await chatRepo("alice");
  const bob = await chatRepo("bob");
  const ra = registryWith(alice.repo);
  const rb = registryWith(bob.repo);
  await ra.open(alice.key);
  await rb.open(bob.key);
  const statuses: string[] = [];
  const sa = session(ra, server, { onStatus: (s) => statuses.push(s) });
  const sb = session(rb, server);
  try {
    sa.subscribe(bob.key);
    sb.subscribe(alice.key);
    await waitFor(() => sameBytes(alice.repo, rb.get(alice.key)), "first sync");
    await server.close();
    await waitFor(() => sa.status.value === "reconnecting", "a to notice");
    await say(alice.repo, 3);
    await say(bob.repo, 2);
    server = startServer({ port });
    await waitFor(
      () =>
        sameBytes(alice.repo, rb.get(alice.key)) &&
        sameBytes(bob.repo, ra.get(bob.key)),
      "both to converge through the new relay",
    );
    assert.ok(sameBytes(alice.repo, server.registry.get(alice.key)));
    assert.deepEqual(statuses.slice(0, 3), ["open", "reconnecting", "open"]);
  } finally {
    await closeAll(sa, sb, server);
  }
});

Deno.test("forged, unsigned and forked bytes are rejected with reason and offset, and reach no one", async () => {
  const storage = new MemoryStorage();
  const rejects: RejectEvent[] = [];
  const server = startServer({ onReject: (e) => rejects.push(e) }, {
    storage,
  });
  const alice = await chatRepo("alice");
  await say(alice.repo, 2);
  const carol = await chatRepo("carol"); // a victim with no data on the relay
  const mallory = await chatRepo("mallory");
  await say(mallory.repo, 1);
  const aliceTwin = await chatRepo("alice"); // alice's key, another history
  await say(aliceTwin.repo, 3, "other");
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const sa = session(ra, server);
  const watcher = new RepoRegistry();
  const sw = session(watcher, server);
  const evil = rawPeer(server.url);
  try {
    await waitFor(
      () => sameBytes(alice.repo, server.registry.get(alice.key)),
      "alice on the relay",
    );
    await sw.synced(carol.key);
    await sw.synced(alice.key);
    await evil.opened;
    evil.ws.send("registry");
    evil.ws.send(JSON.stringify({ type: "subscribe", key: carol.key }));
    evil.ws.send(JSON.stringify({ type: "subscribe", key: alice.key }));
    await evil.text((m) => m.type === "catalog", "the relay's catalog");

    // Forged: mallory's signed chunks claimed as carol's.
    const forged = mallory.repo.chunksBetween(0);
    const firstSig = forged.findIndex(isSignature);
    const sigOffset = forged.slice(0, firstSig).reduce(
      (n, c) => n + c.length,
      0,
    );
    evil.ws.send(dataMessage(carol.key, forged));
    const sig = await evil.text(
      (m) => m.type === "reject" && m.key === carol.key,
      "reject for the forgery",
    );
    assert.equal(sig.reason, "signature");
    assert.equal(sig.offset, sigOffset);

    // Forked: alice's key, a different history.
    const mine = alice.repo.chunksBetween(0);
    const theirs = aliceTwin.repo.chunksBetween(0);
    let forkAt = 0;
    for (let i = 0; i < theirs.length; i++) {
      if (bytesToHex(mine[i]) !== bytesToHex(theirs[i])) break;
      forkAt += theirs[i].length;
    }
    evil.ws.send(dataMessage(alice.key, theirs));
    const fork = await evil.text(
      (m) => m.type === "reject" && m.key === alice.key,
      "reject for the fork",
    );
    assert.equal(fork.reason, "fork");
    assert.equal(fork.offset, forkAt);
    assert.match(String(fork.message), /differs/);

    // Unsigned: a second connection sends chunks without a signature.
    const unsigned = rawPeer(server.url);
    await unsigned.opened;
    unsigned.ws.send("registry");
    unsigned.ws.send(JSON.stringify({ type: "subscribe", key: carol.key }));
    const noSig = carol.repo.chunksBetween(0).filter((c) => !isSignature(c));
    unsigned.ws.send(dataMessage(carol.key, noSig));
    unsigned.ws.send(
      JSON.stringify({ type: "subscribed", key: carol.key, offset: 0 }),
    );
    const uns = await unsigned.text(
      (m) => m.type === "reject" && m.key === carol.key,
      "reject for unsigned bytes",
    );
    assert.equal(uns.reason, "unsigned");
    assert.equal(uns.offset, 0);
    await unsigned.close();

    // Nothing bad was stored or forwarded; the connection survived.
    await say(alice.repo, 1);
    await waitFor(
      () => sameBytes(alice.repo, watcher.get(alice.key)),
      "the watcher to keep getting alice's real commits",
    );
    assert.equal(watcher.get(carol.key)!.byteLength, 0);
    assert.equal(server.registry.get(carol.key)!.byteLength, 0);
    assert.equal(storage.length(carol.key), 0);
    await server.registry.flush();
    assert.equal(storage.length(alice.key), alice.repo.byteLength);
    assert.equal(evil.ws.readyState, WebSocket.OPEN);
    assert.deepEqual(
      rejects.filter((e) => e.direction === "sent").map((e) => e.reason),
      ["signature", "fork", "unsigned"],
    );
  } finally {
    await closeAll(evil, sa, sw, server);
  }
});

Deno.test("a peer that floods rejected input is disconnected with a reason", async () => {
  const server = startServer({ limits: { maxRejectsPerMinute: 3 } });
  const evil = rawPeer(server.url);
  try {
    await evil.opened;
    evil.ws.send("registry");
    // The fourth rejection closes (a client sending after that sees no clean close).
    for (let i = 0; i < 4; i++) evil.ws.send("{not json");
    const closed = await evil.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /too many rejected/);
  } finally {
    await closeAll(evil, server);
  }
});

Deno.test("limits refuse with a reason while others keep working", async () => {
  const server = startServer({
    limits: {
      maxConnections: 3,
      maxReposPerConnection: 2,
      maxPendingBytes: 1000,
    },
  });
  const alice = await chatRepo("alice");
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const sa = session(ra, server);
  const reader = new RepoRegistry();
  const rejected: RejectEvent[] = [];
  const sr = session(reader, server, {
    filter: () => false,
    onReject: (e) => rejected.push(e),
  });
  const evil = rawPeer(server.url);
  try {
    await Promise.all([sa.ready, sr.ready, evil.opened]);
    // Max connections: a fourth is refused before the upgrade.
    const refused = await server.server.app.request("/", {
      headers: { upgrade: "websocket" },
    });
    assert.equal(refused.status, 503);
    assert.match((await refused.json()).error, /too many connections/);
    const fourth = rawPeer(server.url);
    await assert.rejects(fourth.opened);
    await fourth.closed;

    // Repos per connection: the third is refused.
    const k2 = "02" + "55".repeat(32);
    const k3 = "02" + "66".repeat(32);
    sr.subscribe(alice.key);
    sr.subscribe(k2);
    sr.subscribe(k3);
    await waitFor(() => rejected.length > 0, "a reject for the third repo");
    assert.deepEqual(
      { key: rejected[0].key, reason: rejected[0].reason },
      { key: k3, reason: "limit" },
    );
    await waitFor(() => sameBytes(alice.repo, reader.get(alice.key)), "alice");

    // Frame size and pending bytes.
    evil.ws.send("registry");
    const victim = "02" + "77".repeat(32);
    const victim2 = "02" + "88".repeat(32);
    evil.ws.send(JSON.stringify({ type: "subscribe", key: victim }));
    evil.ws.send(JSON.stringify({ type: "subscribe", key: victim2 }));
    await evil.text((m) => m.type === "catalog", "catalog");
    evil.ws.send(dataMessage(victim, [new Uint8Array(1000).fill(20)]));
    const big = await evil.text(
      (m) => m.type === "reject" && m.key === victim,
      "too-large",
    );
    assert.equal(big.reason, "too-large");
    assert.equal(big.offset, 0);
    const unsigned = Array.from(
      { length: 1100 },
      (_, i) => new Uint8Array([20 + (i % 128)]),
    );
    evil.ws.send(dataMessage(victim2, unsigned));
    const pending = await evil.text(
      (m) => m.type === "reject" && m.key === victim2,
      "pending",
    );
    assert.equal(pending.reason, "pending");
    assert.equal(pending.offset, 0);

    // The others keep working.
    await say(alice.repo, 2);
    await waitFor(
      () => sameBytes(alice.repo, reader.get(alice.key)),
      "the reader to keep syncing",
    );
  } finally {
    await closeAll(evil, sa, sr, server);
  }
});

Deno.test("single-stream mode: a hex-key handshake, then raw chunk frames both ways", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  await say(alice.repo, 3);
  const bob = await chatRepo("bob");
  await say(bob.repo, 2);
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const sa = session(ra, server);
  const raw = rawPeer(server.url);
  const copy = new Repo({ key: bob.key });
  const sync = repoSync(copy, { url: server.url });
  try {
    await waitFor(
      () => sameBytes(alice.repo, server.registry.get(alice.key)),
      "alice on the relay",
    );
    // A plain socket: key, then frames in; frames out.
    await raw.opened;
    raw.ws.send(alice.key);
    const got = new Repo({ key: alice.key });
    const ingest = new Ingest(got);
    let fed = 0;
    await waitFor(() => {
      for (; fed < raw.binaries.length; fed++) ingest.write(raw.binaries[fed]);
      return got.byteLength === alice.repo.byteLength;
    }, "alice's frames over single-stream mode");
    assert.ok(sameBytes(alice.repo, got));
    // repoSync uploads bob's repo (the relay had none of it).
    const bobCopy = new Repo({ key: bob.key });
    await (async () => {
      const bobSync = repoSync(bob.repo, { url: server.url });
      await waitFor(
        () => sameBytes(bob.repo, server.registry.get(bob.key)),
        "bob uploaded in single-stream mode",
      );
      await bobSync.close();
    })();
    void bobCopy;
    await waitFor(() => sameBytes(bob.repo, copy), "repoSync to download bob");
  } finally {
    await closeAll(raw, sync, sa, server);
  }
});

Deno.test("a reference-like peer (reference messages only, one chunk per message) syncs both ways", async () => {
  const server = startServer();
  const alice = await chatRepo("alice");
  await say(alice.repo, 3);
  const ra = registryWith(alice.repo);
  await ra.open(alice.key);
  const sa = session(ra, server);
  const reader = new RepoRegistry();
  const sr = session(reader, server);
  const ref = await chatRepo("refpeer");
  await say(ref.repo, 2);
  const peer = rawPeer(server.url);
  // What the reference peer received for alice, checked through an Ingest.
  const copy = new Repo({ key: alice.key });
  const ingest = new Ingest(copy);
  let fed = 0;
  try {
    await waitFor(
      () => sameBytes(alice.repo, server.registry.get(alice.key)),
      "alice on the relay",
    );
    await peer.opened;
    peer.ws.send("registry");
    peer.ws.send(JSON.stringify({ type: "catalog", keys: [ref.key] }));
    const catalog = await peer.text(
      (m) => m.type === "catalog" && (m.keys as string[]).includes(alice.key),
      "the relay's catalog",
    );
    assert.ok(catalog);
    peer.ws.send(JSON.stringify({ type: "subscribe", key: alice.key }));
    const sub = await peer.text(
      (m) => m.type === "subscribe" && m.key === ref.key,
      "the relay to subscribe to the peer's repo",
    );
    assert.equal(sub.from, undefined, "no resume offset for a reference peer");
    // Reference style: one WebSocket message per chunk.
    for (const chunk of ref.repo.chunksBetween(0)) {
      peer.ws.send(dataMessage(ref.key, [chunk]));
    }
    await waitFor(() => {
      for (; fed < peer.binaries.length; fed++) {
        const m = peer.binaries[fed];
        if (bytesToHex(m.subarray(0, 33)) === alice.key) {
          ingest.write(m.subarray(33));
        }
      }
      return copy.byteLength === alice.repo.byteLength;
    }, "alice's chunks to reach the reference peer");
    assert.ok(sameBytes(alice.repo, copy));
    await waitFor(
      () => sameBytes(ref.repo, reader.get(ref.key)),
      "the reference peer's repo to reach another client",
    );
    assert.equal(
      peer.texts.filter((m) => m.type === "reject").length,
      0,
      "no rejects for valid input",
    );
  } finally {
    await closeAll(peer, sa, sr, server);
  }
});
