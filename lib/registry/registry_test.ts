import assert from "node:assert/strict";
import { MemoryStorage } from "../../tests/support/memory_storage.ts";
import { Signer } from "../identity/signer.ts";
import { bytesToHex } from "../codec/hex.ts";
import { Repo } from "../store/repo.ts";
import { checkRepoKey, isRepoKey } from "./key.ts";
import { RepoRegistry } from "./registry.ts";

const KEY = "02" + "11".repeat(32);

async function signedRepo(): Promise<Repo> {
  const signer = new Signer("alice", "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const repo = new Repo({ key, now: () => 1000 });
  await repo.attachSigner(signer, "chat");
  return repo;
}

Deno.test("RepoRegistry.open shares one instance between concurrent opens", async () => {
  const registry = new RepoRegistry();
  const opened: string[] = [];
  registry.onOpen((_repo, key) => opened.push(key));
  const [a, b] = await Promise.all([registry.open(KEY), registry.open(KEY)]);
  assert.equal(a, b);
  assert.equal(registry.get(KEY), a);
  assert.equal(registry.has(KEY), true);
  assert.equal(registry.size, 1);
  assert.deepEqual([...registry.keys()], [KEY]);
  assert.deepEqual([...registry].map(([k, r]) => [k, r.key]), [[KEY, KEY]]);
  assert.deepEqual(opened, [KEY]);
});

Deno.test("RepoRegistry rejects malformed keys with a TypeError saying why", () => {
  const registry = new RepoRegistry();
  assert.throws(() => registry.open("02" + "AB".repeat(32)), /lower-case/);
  assert.throws(
    () => registry.open("04" + "ab".repeat(32)),
    /start with 02 or 03/,
  );
  assert.throws(() => registry.open("02ab"), /66 hex characters, got 4/);
  assert.throws(() => registry.open("02" + "zz".repeat(32)), /non-hex/);
  assert.throws(() => checkRepoKey(42), TypeError);
  assert.equal(isRepoKey("03" + "00".repeat(32)), true);
});

Deno.test("RepoRegistry's create option must return a repo with the key", async () => {
  const registry = new RepoRegistry({ create: () => new Repo() });
  await assert.rejects(registry.open(KEY), /must return a Repo whose key/);
  assert.equal(registry.has(KEY), false);
});

Deno.test("RepoRegistry persists every verified range and loads it back on open", async () => {
  const storage = new MemoryStorage();
  const repo = await signedRepo();
  const registry = new RepoRegistry({ storage, create: () => repo });
  await registry.open(repo.key!);
  repo.set({ n: 1 });
  await repo.whenSigned();
  repo.set("n", 2);
  await repo.whenSigned();
  await registry.close();
  assert.equal(storage.appends.length, 2);
  assert.equal(storage.length(repo.key!), repo.byteLength);
  assert.ok(storage.flushes >= 1);

  const again = new RepoRegistry({ storage });
  const [loaded] = await again.openStored();
  assert.equal(bytesToHex(loaded.slice()), bytesToHex(repo.slice()));
  assert.deepEqual(loaded.get(), { n: 2 });
  assert.equal(loaded.signedLength, repo.byteLength);
  await again.close();
  assert.equal(storage.appends.length, 2, "loading does not store again");
});

Deno.test("RepoRegistry surfaces storage errors through onError, never silently", async () => {
  const storage = new MemoryStorage();
  const errors: string[] = [];
  const repo = await signedRepo();
  const registry = new RepoRegistry({
    storage,
    create: () => repo,
    onError: (error, context) =>
      errors.push(`${context.operation}: ${error.message}`),
  });
  await registry.open(repo.key!);
  storage.failAppends = true;
  repo.set({ n: 1 });
  await repo.whenSigned();
  await registry.flush();
  assert.equal(errors.length, 1);
  assert.match(
    errors[0],
    /^append: Storage \(memory\) failed to append repo .*disk full; persisting stops/,
  );
  await registry.close();
});

Deno.test("RepoRegistry.open rejects when storage fails to load, and can retry", async () => {
  const storage = new MemoryStorage();
  let fail = true;
  storage.load = (_key) =>
    fail ? Promise.reject(new Error("io error")) : Promise.resolve([]);
  const registry = new RepoRegistry({ storage });
  await assert.rejects(
    registry.open(KEY),
    /failed to load repo 02111111…: io error/,
  );
  fail = false;
  assert.equal((await registry.open(KEY)).key, KEY);
  await registry.close();
});
