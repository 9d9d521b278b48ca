import assert from "node:assert/strict";
import { bytesToHex, encodeFrames, Repo } from "../lib/mod.ts";
import { Signer } from "../lib/identity/mod.ts";
import { loadVectors, untag } from "./support/vectors.ts";

const vectors = await loadVectors();

Deno.test("Repo reproduces every repos[] vector: stream, wire frames, commits, history", async () => {
  assert.ok(vectors.repos.length >= 2);
  for (const [i, c] of vectors.repos.entries()) {
    let now = new Date(0);
    const repo = new Repo({ now: () => now });
    await repo.attachSigner(
      new Signer(c.username, c.password, c.iterations),
      c.name,
    );
    assert.equal(repo.key, c.publicKey, `repo ${i}: key`);
    for (const [j, step] of c.steps.entries()) {
      now = untag(step.date) as Date;
      const working = repo.checkout();
      working.set(untag(step.value));
      repo.commit(working, step.message);
      await repo.whenSigned();
      assert.equal(
        repo.lastCommitAddress,
        step.commitAddress,
        `repo ${i} step ${j}: commit`,
      );
      assert.equal(
        repo.byteLength,
        step.byteLength,
        `repo ${i} step ${j}: byteLength`,
      );
      assert.deepStrictEqual(
        repo.get(),
        untag(step.value),
        `repo ${i} step ${j}: value`,
      );
    }
    assert.equal(bytesToHex(repo.slice()), c.stream, `repo ${i}: stream`);
    const frames = repo.chunksBetween(0).map((chunk) =>
      bytesToHex(encodeFrames([chunk]))
    );
    assert.deepEqual(frames, c.wireFrames, `repo ${i}: wire frames`);
    const { address: _, ...last } = repo.lastCommit!;
    assert.deepStrictEqual(last, untag(c.lastCommit), `repo ${i}: lastCommit`);
    assert.deepStrictEqual(
      repo.history().map(({ address: _, ...record }) => record),
      c.history.map(untag),
      `repo ${i}: history`,
    );
  }
});

Deno.test("Repo.set() of whole values writes the same bytes as checkout()+commit()", async () => {
  const cases = vectors.repos.filter((c) =>
    c.steps.every((s) => s.message === "")
  );
  assert.ok(cases.length > 0);
  for (const c of cases) {
    let now = new Date(0);
    const repo = new Repo({ now: () => now });
    await repo.attachSigner(
      new Signer(c.username, c.password, c.iterations),
      c.name,
    );
    for (const step of c.steps) {
      now = untag(step.date) as Date;
      repo.set(untag(step.value));
      await repo.whenSigned();
    }
    assert.equal(bytesToHex(repo.slice()), c.stream);
  }
});
