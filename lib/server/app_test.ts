import assert from "node:assert/strict";
import { encodeFrames } from "../codec/frames.ts";
import { bytesToHex } from "../codec/hex.ts";
import { Signer } from "../identity/signer.ts";
import { RepoRegistry } from "../registry/registry.ts";
import { Repo } from "../store/repo.ts";
import { createServer } from "./app.ts";
import { toJsonValue } from "./json_value.ts";

const info = {
  primaryKeyHex: "02" + "aa".repeat(32),
  name: "chat",
  keyIterations: 600000,
};

async function served() {
  const signer = new Signer("alice", "pw", 1);
  const key = bytesToHex((await signer.keysFor("chat")).publicKey);
  const repo = new Repo({ key, now: () => 1746619200000 });
  await repo.attachSigner(signer, "chat");
  repo.set({ name: "alice", at: new Date(5), bytes: new Uint8Array([1, 2]) });
  await repo.whenSigned();
  const registry = new RepoRegistry({ create: () => repo });
  await registry.open(key);
  return { server: createServer({ registry, info }), repo, key };
}

Deno.test("GET /api/info returns the primary key, name and iterations", async () => {
  const { server } = await served();
  const response = await server.app.request("/api/info");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), info);
});

Deno.test("GET /streams/:key returns the current value in the tagged JSON mapping", async () => {
  const { server, key } = await served();
  const response = await server.app.request(`/streams/${key}`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    name: "alice",
    at: { $date: 5 },
    bytes: { $bytes: "0102" },
  });
});

Deno.test("GET /streams/:key/raw returns the verified chunk frames", async () => {
  const { server, key, repo } = await served();
  const signed = encodeFrames(repo.chunksBetween(0, repo.signedLength));
  repo.set("name", "unsigned yet"); // not signed until the next tick
  const response = await server.app.request(`/streams/${key}/raw`);
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "application/octet-stream",
  );
  const body = new Uint8Array(await response.arrayBuffer());
  assert.equal(bytesToHex(body), bytesToHex(signed));
  await repo.whenSigned();
});

Deno.test("GET /streams/:key answers 404 for an unknown repo and 400 for a malformed key, with a JSON error", async () => {
  const { server } = await served();
  const unknown = await server.app.request(`/streams/03${"00".repeat(32)}`);
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).error, /holds no repo/);
  const bad = await server.app.request("/streams/hello/raw");
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /not a repo key/);
});

Deno.test("GET / without an upgrade falls through to routes added later", async () => {
  const bare = (await served()).server;
  assert.equal((await bare.app.request("/")).status, 404);
  const { server } = await served();
  server.app.get("/", (c) => c.text("the chat page"));
  const page = await server.app.request("/");
  assert.equal(await page.text(), "the chat page");
});

Deno.test("toJsonValue tags what JSON cannot say", () => {
  assert.deepEqual(toJsonValue([1, undefined, NaN, -0, Infinity]), [
    1,
    { $undefined: true },
    { $number: "NaN" },
    { $number: "-0" },
    { $number: "Infinity" },
  ]);
  assert.deepEqual(toJsonValue({ $ref: 1 }), { $object: { $ref: 1 } });
  assert.deepEqual(toJsonValue(undefined), { $undefined: true });
});
