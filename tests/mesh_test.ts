// A relay mesh of real processes: three relays chained upstream
// (R3 → R2 → R1, R1 owning the chat room), each with its own file store,
// carry a room end to end; the middle relay is SIGKILLed and brought back
// on its data directory while everyone keeps writing.

import assert from "node:assert/strict";
import { ChatApp } from "../lib/chat/app.ts";
import { bytesToHex } from "../lib/codec/hex.ts";
import { encodeFrames } from "../lib/codec/frames.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { registrySync } from "../lib/sync/client.ts";
import { settled, waitFor } from "./support/sync_harness.ts";

const WAIT_MS = 20_000;
const SCRIPT = new URL("./support/mesh_relay.ts", import.meta.url).pathname;

interface RelayProcess {
  port: number;
  http: string;
  ws: string;
  /** SIGTERM, and wait for the process to end. */
  stop(): Promise<void>;
  /** SIGKILL, and wait for the process to end. */
  kill(): Promise<void>;
}

async function spawnRelay(args: string[]): Promise<RelayProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  while (!port) {
    const { value, done } = await lines.read();
    if (done) {
      await child.status;
      throw new Error(`relay ${args.join(" ")} exited before READY`);
    }
    text += value;
    const match = text.match(/READY (\d+)/);
    if (match) port = Number(match[1]);
  }
  // Keep reading so the pipe never fills; done once the process ends.
  const drained = (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })();
  let ended: Promise<void> | undefined;
  const end = (signal: Deno.Signal) =>
    ended ??= (async () => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      await child.status;
      await drained;
    })();
  return {
    port,
    http: `http://127.0.0.1:${port}/`,
    ws: `ws://127.0.0.1:${port}/`,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

async function rawHex(relay: RelayProcess, key: string): Promise<string> {
  const response = await fetch(`${relay.http}streams/${key}/raw`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return response.ok ? bytesToHex(bytes) : `HTTP ${response.status}`;
}

Deno.test("a 3-process relay mesh carries a room end to end; a relay SIGKILLed and restarted on its data loses and duplicates nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "streamo-mesh-" });
  const relays: RelayProcess[] = [];
  const apps: ChatApp[] = [];
  try {
    const r1 = await spawnRelay(["--data", `${root}/r1`, "--room", "owner:pw"]);
    relays.push(r1);
    let r2 = await spawnRelay(["--data", `${root}/r2`, "--upstream", r1.ws]);
    relays.push(r2);
    const r3 = await spawnRelay(["--data", `${root}/r3`, "--upstream", r2.ws]);
    relays.push(r3);
    const info = await (await fetch(`${r1.http}api/info`)).json();
    const roomKey = info.primaryKeyHex as string;

    const registries: RepoRegistry[] = [];
    const join = (relay: RelayProcess) => {
      const registry = new RepoRegistry();
      registries.push(registry);
      const app = new ChatApp({
        config: { roomKey, name: "chat", keyIterations: info.keyIterations },
        registry,
        sync: registrySync,
        url: relay.ws,
        syncOptions: { reconnect: { baseMs: 20, maxMs: 200 }, keepaliveMs: 0 },
      });
      apps.push(app);
      return app;
    };
    const names = ["alice", "carol", "bob"];
    const [alice, carol, bob] = [join(r1), join(r2), join(r3)];
    await Promise.all(apps.map((app) => app.start()));
    await Promise.all(
      apps.map((app, i) => app.signIn(names[i], `${names[i]}-pw`, false)),
    );
    const expected: string[] = [];
    const say = (round: string) =>
      apps.forEach((app, i) => {
        const text = `${round} from ${names[i]}`;
        app.send(text);
        expected.push(`${names[i]}: ${text}`);
      });
    const texts = (app: ChatApp) =>
      app.history().map((l) => `${l.name}: ${l.text}`);
    const allSeeAll = () =>
      apps.every((app) => expected.every((l) => texts(app).includes(l)));

    say("before");
    await waitFor(allSeeAll, "everyone to see the first round", WAIT_MS);

    // Kill the middle relay: alice (R1) and bob (R3) are cut apart, carol
    // (R2) is offline. Everyone keeps writing.
    const port = r2.port;
    await r2.kill();
    await waitFor(
      () => carol.status.value !== "open",
      "carol to notice her relay is gone",
      WAIT_MS,
    );
    say("during the outage");
    say("still during the outage");
    assert.ok(!texts(alice).includes("bob: during the outage from bob"));

    // Bring it back on the same port and data directory.
    r2 = await spawnRelay([
      "--data",
      `${root}/r2`,
      "--upstream",
      r1.ws,
      "--port",
      String(port),
    ]);
    relays[1] = r2;
    say("after");
    await waitFor(allSeeAll, "everyone to converge after the restart", WAIT_MS);
    for (const app of apps) {
      const seen = texts(app);
      for (const line of expected) {
        assert.equal(seen.filter((l) => l === line).length, 1, line);
      }
      assert.equal(seen.length, expected.length);
    }

    // Bytes: every relay and every client holds each repo identically.
    const keys = [...apps.map((app) => app.me.value!.key), roomKey];
    const hexOf = (registry: RepoRegistry, key: string) => {
      const repo = registry.get(key);
      return repo ? bytesToHex(encodeFrames(repo.chunksBetween(0))) : "";
    };
    for (const key of keys) {
      // The writer's own copy (the room's is its owner relay's).
      const owner = registries.find((r) => r.get(key)?.canSign);
      const want = owner ? hexOf(owner, key) : await rawHex(r1, key);
      await waitFor(
        () => registries.every((r) => hexOf(r, key) === want),
        `every client to hold ${key.slice(0, 8)}… byte for byte`,
        WAIT_MS,
      );
      for (const relay of relays) {
        const got = await settled(() => rawHex(relay, key), want, WAIT_MS);
        assert.equal(
          got,
          want,
          `relay :${relay.port} holds ${key.slice(0, 8)}…`,
        );
      }
    }
    assert.deepEqual(
      bob.members().map((m) => m.key).sort(),
      keys.slice(0, 3).sort(),
    );
  } finally {
    for (const app of apps) await app.close();
    for (const relay of relays) await relay.stop();
    await Deno.remove(root, { recursive: true });
  }
});
