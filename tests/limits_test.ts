// Resource limits under load, over real sockets: a full relay answers
// HTTP 503 before the upgrade, a flooding connection is cut off, and the
// connections within their limits keep syncing throughout.

import assert from "node:assert/strict";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { registrySync, type SyncSession } from "../lib/sync/client.ts";
import { RateMeter } from "../lib/sync/limits.ts";
import {
  chatRepo,
  rawPeer,
  registryWith,
  sameBytes,
  say,
  startServer,
  waitFor,
} from "./support/sync_harness.ts";

/** The status line a raw HTTP/1.1 WebSocket upgrade request gets. */
async function upgradeStatus(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ),
    );
    const buf = new Uint8Array(1024);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return text.split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("RateMeter lets two seconds' worth through at once, then the sustained rate", () => {
  let now = 0;
  const meter = new RateMeter(10, 1000, () => now);
  let passed = 0;
  while (meter.take(10) === undefined) passed++;
  assert.equal(passed, 20);
  assert.match(meter.take(1)!, /more than 10 messages per second/);
  now += 500;
  passed = 0;
  while (meter.take(10) === undefined) passed++;
  assert.equal(passed, 5);
  now += 10_000;
  assert.match(meter.take(2001)!, /more than 1000 bytes per second/);
  assert.equal(meter.take(2000), undefined);
});

Deno.test("a full relay answers 503 before the upgrade and a flooding connection is cut off, while the others keep syncing", async () => {
  const server = startServer({
    limits: { maxConnections: 3, maxMessagesPerSecond: 50 },
  });
  const alice = await chatRepo("alice");
  const writerRegistry = registryWith(alice.repo);
  await writerRegistry.open(alice.key);
  const reader = new RepoRegistry();
  const sessions: SyncSession[] = [];
  const session = (registry: RepoRegistry) => {
    const s = registrySync(registry, {
      url: server.url,
      keepaliveMs: 0,
      reconnect: { baseMs: 20, maxMs: 200 },
    });
    sessions.push(s);
    return s;
  };
  const flooder = rawPeer(server.url);
  try {
    const writer = session(writerRegistry);
    const follower = session(reader);
    await Promise.all([writer.ready, flooder.opened]);
    await follower.synced(alice.key);
    await waitFor(() => server.server.relay.size === 3, "three connections");

    // Full: extra clients are refused with 503 before any upgrade.
    assert.match(await upgradeStatus(server.port), /^HTTP\/1\.1 503/);
    const extra = rawPeer(server.url);
    await assert.rejects(extra.opened);
    await extra.closed;
    await say(alice.repo, 3);
    await waitFor(
      () => sameBytes(alice.repo, reader.get(alice.key)),
      "the existing clients to keep syncing while the relay is full",
    );

    // A flood of 1,000 messages at once: rejected with reason "rate", then
    // closed with 1008.
    flooder.ws.send("registry");
    for (let i = 0; i < 1000; i++) {
      flooder.ws.send(JSON.stringify({ type: "ping", id: i }));
    }
    const reject = await flooder.text(
      (m) => m.type === "reject" && m.reason === "rate",
      "the rate reject",
    );
    assert.match(String(reject.message), /more than 50 messages per second/);
    const closed = await flooder.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /flooding/);

    // The others were unaffected, and the freed slot takes a newcomer.
    await say(alice.repo, 2);
    await waitFor(
      () => sameBytes(alice.repo, reader.get(alice.key)),
      "the reader to keep syncing after the flood",
    );
    const late = new RepoRegistry();
    await session(late).synced(alice.key);
    await waitFor(
      () => sameBytes(alice.repo, late.get(alice.key)),
      "a newcomer to take the freed slot",
    );
    assert.equal(writer.status.value, "open");
    assert.equal(follower.status.value, "open");
    assert.equal(writer.stats.connections, 1, "never dropped");
  } finally {
    await flooder.close();
    for (const s of sessions) await s.close();
    await server.close();
  }
});
