// Closing never hangs on a peer that does not answer: a transport whose
// close() never reports back is given up on after a bounded wait.

import assert from "node:assert/strict";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { SyncPeer } from "../lib/sync/peer.ts";
import { Relay } from "../lib/sync/relay.ts";
import type { Transport } from "../lib/sync/transport.ts";

/** An open transport whose other end never answers a close. */
function deafTransport(): Transport & { closes: number; sent: unknown[] } {
  const t = {
    closes: 0,
    sent: [] as unknown[],
    bufferedAmount: 0,
    readyState: 1,
    binaryType: "arraybuffer",
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send(data: string | Uint8Array) {
      t.sent.push(data);
    },
    close() {
      t.closes++;
      t.readyState = 2; // closing, forever
    },
  };
  return t;
}

async function timed(promise: Promise<unknown>): Promise<number> {
  const start = performance.now();
  await promise;
  return performance.now() - start;
}

Deno.test("SyncPeer.close() resolves after closeTimeoutMs when the peer never answers", async () => {
  const transport = deafTransport();
  const peer = new SyncPeer({
    registry: new RepoRegistry(),
    transport,
    role: "client",
    closeTimeoutMs: 50,
  });
  const ms = await timed(peer.close());
  assert.equal(transport.closes, 1);
  assert.ok(peer.closed);
  assert.ok(ms >= 40 && ms < 2_000, `closed after ${ms} ms`);
});

Deno.test("Relay.close() gives up on connections that never answer, then holds none", async () => {
  const relay = new Relay(new RepoRegistry(), { closeTimeoutMs: 100 });
  const pending = deafTransport(); // never sent its handshake
  const registry = deafTransport(); // in multi-repo mode
  relay.accept(pending);
  relay.accept(registry);
  registry.onmessage!(new MessageEvent("message", { data: "registry" }));
  assert.equal(relay.size, 2);
  const ms = await timed(relay.close());
  assert.equal(pending.closes, 1);
  assert.equal(registry.closes, 1);
  assert.equal(relay.size, 0);
  assert.ok(ms < 2_000, `closed after ${ms} ms`);
  assert.equal(relay.full, true, "a closed relay refuses new connections");
});
