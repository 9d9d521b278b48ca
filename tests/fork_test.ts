/**
 * One identity on several devices (issue "fork detection and automatic
 * rebase"): devices that wrote while apart converge through a relay, over
 * real WebSockets, with every message kept and none duplicated.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bytesToHex,
  type RebaseResult,
  registrySync,
  Repo,
  RepoRegistry,
  Signer,
  type SyncSession,
} from "../lib/mod.ts";
import {
  sameBytes,
  startServer,
  type TestServer,
  waitFor,
} from "./support/sync_harness.ts";

let clock = Date.UTC(2026, 0, 1);

interface Device {
  name: string;
  repo: Repo;
  registry: RepoRegistry;
  session: SyncSession | undefined;
  rebases: RebaseResult[];
  online(server: TestServer): Promise<void>;
  offline(): Promise<void>;
  say(text: string): Promise<void>;
}

async function device(
  name: string,
  key: string,
  signer: Signer,
): Promise<Device> {
  const repo = new Repo({ key, now: () => clock++ });
  await repo.attachSigner(signer, "chat");
  const registry = new RepoRegistry({
    create: (k) => k === key ? repo : new Repo({ key: k }),
  });
  await registry.open(key);
  const d: Device = {
    name,
    repo,
    registry,
    session: undefined,
    rebases: [],
    async online(server) {
      d.session = registrySync(registry, {
        url: server.url,
        reconnect: false,
        onRebase: (_key, result) => result && d.rebases.push(result),
      });
      await d.session.ready;
      await d.session.synced(key);
    },
    async offline() {
      await d.session?.close();
      d.session = undefined;
    },
    async say(text) {
      repo.push("messages", { text, at: clock++ });
      await repo.whenSigned();
    },
  };
  return d;
}

/** One identity, `n` devices sharing a first commit through `server`. */
async function identity(server: TestServer, n: number): Promise<Device[]> {
  const signer = new Signer("alice", "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const devices: Device[] = [];
  for (let i = 0; i < n; i++) devices.push(await device(`d${i}`, key, signer));
  const [first] = devices;
  first.repo.set({ name: "alice", messages: [] });
  await first.repo.whenSigned();
  await first.online(server);
  for (const d of devices.slice(1)) await d.online(server);
  await converged(server, devices);
  return devices;
}

function texts(repo: Repo | undefined): string[] {
  const messages = (repo?.get("messages") ?? []) as { text: string }[];
  return messages.map((m) => m.text);
}

/** Waits until the relay and every online device hold identical bytes. */
async function converged(server: TestServer, devices: Device[]): Promise<void> {
  const key = devices[0].repo.key!;
  await waitFor(
    () =>
      devices.filter((d) => d.session).every((d) =>
        d.repo.signedLength === d.repo.byteLength &&
        sameBytes(d.repo, server.registry.get(key))
      ),
    "devices and relay to converge",
    20_000,
  );
}

function assertAll(repo: Repo, expected: string[]): void {
  const got = texts(repo);
  for (const text of expected) assert.ok(got.includes(text), `${text} is kept`);
  assert.equal(new Set(got).size, got.length, `no duplicates in ${got}`);
}

for (const order of ["first-writer-first", "second-writer-first"]) {
  Deno.test(`Two devices of one identity write offline and converge (${order} reconnects)`, async () => {
    const server = startServer();
    try {
      const [a, b] = await identity(server, 2);
      await a.offline();
      await b.offline();
      await a.say("a1");
      await a.say("a2");
      await b.say("b1");
      const lastCommitA = a.repo.lastCommit!.date.getTime();
      const [first, second] = order === "first-writer-first" ? [a, b] : [b, a];
      await first.online(server);
      await converged(server, [first]);
      await second.online(server);
      await converged(server, [a, b]);
      assertAll(a.repo, ["a1", "a2", "b1"]);
      assert.deepEqual(texts(a.repo), texts(b.repo));
      assert.equal(second.rebases.length, 1, "the later device rebased");
      assert.equal(first.rebases.length, 0, "the accepted device did not");
      // No commit of the first device was lost: its last commit is in history.
      const dates = a.repo.history().map((c) => c.date.getTime());
      if (first === a) assert.ok(dates.includes(lastCommitA));
      await a.offline();
      await b.offline();
    } finally {
      await server.close();
    }
  });
}

Deno.test("Three devices of one identity converge after writing apart", async () => {
  const server = startServer();
  try {
    const devices = await identity(server, 3);
    for (const d of devices) await d.offline();
    for (const d of devices) {
      await d.say(`${d.name} x`);
      await d.say(`${d.name} y`);
    }
    for (const d of devices) await d.online(server);
    await converged(server, devices);
    const expected = devices.flatMap((d) => [`${d.name} x`, `${d.name} y`]);
    for (const d of devices) assertAll(d.repo, expected);
    for (const d of devices) await d.offline();
  } finally {
    await server.close();
  }
});

Deno.test("Repeated forks, and a device offline through several rounds, lose nothing", async () => {
  const server = startServer();
  try {
    const [a, b, c] = await identity(server, 3);
    await c.offline();
    const expected: string[] = [];
    for (let round = 0; round < 3; round++) {
      await a.offline();
      await b.offline();
      for (const d of [a, b, c]) {
        await d.say(`${d.name} r${round}`);
        expected.push(`${d.name} r${round}`);
      }
      await b.online(server);
      await a.online(server);
      await converged(server, [a, b]);
      assertAll(a.repo, expected.filter((t) => !t.startsWith("d2")));
    }
    await c.online(server);
    await converged(server, [a, b, c]);
    for (const d of [a, b, c]) assertAll(d.repo, expected);
    assert.ok(c.rebases.length >= 1);
    for (const d of [a, b, c]) await d.offline();
  } finally {
    await server.close();
  }
});

Deno.test("A true scalar conflict resolves to the later commit and is reported with both versions", async () => {
  const server = startServer();
  try {
    const [a, b] = await identity(server, 2);
    await a.offline();
    await b.offline();
    a.repo.set("name", "Alice from laptop");
    await a.repo.whenSigned();
    b.repo.set("name", "Alice from phone");
    await b.repo.whenSigned();
    await a.online(server);
    await converged(server, [a]);
    await b.online(server);
    await converged(server, [a, b]);
    assert.equal(b.rebases.length, 1);
    const [conflict] = b.rebases[0].conflicts;
    assert.deepEqual(conflict.path, ["name"]);
    assert.equal(conflict.base, "alice");
    assert.equal(conflict.ours, "Alice from phone");
    assert.equal(conflict.theirs, "Alice from laptop");
    // The phone committed later: its name wins, on every device.
    assert.equal(conflict.winner, "ours");
    assert.equal(a.repo.get("name"), "Alice from phone");
    assert.equal(b.repo.get("name"), "Alice from phone");
    await a.offline();
    await b.offline();
  } finally {
    await server.close();
  }
});

Deno.test("Random offline appends and reconnects across 2–4 devices always converge (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 4 }),
      fc.array(
        fc.record({
          device: fc.nat(),
          action: fc.constantFrom("say", "say", "toggle"),
        }),
        { minLength: 1, maxLength: 12 },
      ),
      async (n, steps) => {
        const server = startServer();
        try {
          const devices = await identity(server, n);
          const written: string[] = [];
          let count = 0;
          for (const step of steps) {
            const d = devices[step.device % n];
            if (step.action === "say") {
              const text = `${d.name}#${count++}`;
              written.push(text);
              await d.say(text);
            } else if (d.session) await d.offline();
            else await d.online(server);
          }
          for (const d of devices) if (!d.session) await d.online(server);
          await converged(server, devices);
          for (const d of devices) assertAll(d.repo, written);
          for (const d of devices) await d.offline();
          return true;
        } finally {
          await server.close();
        }
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("A device's offline commits survive a reload, rebase, and the rebased history is what it reloads", async () => {
  const { FileStorage } = await import("../lib/storage/file_storage.deno.ts");
  const server = startServer();
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await identity(server, 2);
    // The phone keeps its repo on disk from here on.
    const signer = new Signer("alice", "pw", 1);
    const key = b.repo.key!;
    const openPhone = async () => {
      const storage = new FileStorage(dir, { durability: "always" });
      const repo = new Repo({ key, now: () => clock++ });
      const registry = new RepoRegistry({
        storage,
        create: (k) => k === key ? repo : new Repo({ key: k }),
      });
      await registry.open(key);
      await repo.attachSigner(signer, "chat");
      return { storage, repo, registry };
    };
    let phone = await openPhone();
    phone.repo.appendRange(b.repo.chunksBetween(phone.repo.byteLength));
    await b.offline();
    await a.offline();
    await a.say("laptop while apart");
    phone.repo.push("messages", { text: "phone while apart", at: clock++ });
    await phone.repo.whenSigned();
    await phone.registry.close();
    await phone.storage.close();
    // Reload before reconnecting: the unsynced commit comes back from disk.
    phone = await openPhone();
    assert.ok(texts(phone.repo).includes("phone while apart"));
    await a.online(server);
    await converged(server, [a]);
    const rebases: RebaseResult[] = [];
    const session = registrySync(phone.registry, {
      url: server.url,
      reconnect: false,
      onRebase: (_k, result) => result && rebases.push(result),
    });
    await session.ready;
    await waitFor(
      () =>
        sameBytes(phone.repo, server.registry.get(key)) && rebases.length === 1,
      "the phone to rebase and upload",
      20_000,
    );
    await session.close();
    await phone.registry.close();
    await phone.storage.close();
    // What it reloads is the rebased history, byte for byte.
    phone = await openPhone();
    assert.ok(sameBytes(phone.repo, server.registry.get(key)));
    assertAll(phone.repo, ["laptop while apart", "phone while apart"]);
    await phone.registry.close();
    await phone.storage.close();
    await a.offline();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
