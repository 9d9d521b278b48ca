// How the server picks its storage: Deno Deploy, a read-only file system,
// and the STREAMO_STORAGE / STREAMO_KV_PATH / STREAMO_BROADCAST overrides.

import assert from "node:assert/strict";
import { resolveDeployment } from "../routes/deploy.ts";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}
const writable = () => Promise.resolve(true);
const readOnly = () => Promise.resolve(false);

Deno.test("on Deno Deploy (DENO_DEPLOYMENT_ID) the store is Deno's KV, fanned out between isolates", async () => {
  const s = await resolveDeployment(
    env({ DENO_DEPLOYMENT_ID: "abc123" }),
    ".streamo",
    writable,
  );
  assert.deepEqual(
    [s.onDeploy, s.storage, s.kvPath, s.broadcast],
    [true, "kv", undefined, "streamo"],
  );
  assert.match(s.description, /Deno Deploy \(deployment abc123\)/);
});

Deno.test("without a writable file system the store is KV too; with one, the file store", async () => {
  const ro = await resolveDeployment(env({}), ".streamo", readOnly);
  assert.deepEqual([ro.onDeploy, ro.storage], [true, "kv"]);
  assert.match(ro.description, /\.streamo is not writable/);
  const local = await resolveDeployment(env({}), "/data", writable);
  assert.deepEqual(
    [local.onDeploy, local.storage, local.dataDir, local.broadcast],
    [false, "file", "/data", undefined],
  );
});

Deno.test("STREAMO_STORAGE, STREAMO_KV_PATH and STREAMO_BROADCAST override the detection", async () => {
  const kv = await resolveDeployment(
    env({ STREAMO_STORAGE: "kv", STREAMO_KV_PATH: "/tmp/x.kv" }),
    ".streamo",
    writable,
  );
  assert.deepEqual([kv.storage, kv.kvPath, kv.broadcast], [
    "kv",
    "/tmp/x.kv",
    "streamo",
  ]);
  const quiet = await resolveDeployment(
    env({ DENO_DEPLOYMENT_ID: "1", STREAMO_BROADCAST: "off" }),
    ".streamo",
    writable,
  );
  assert.equal(quiet.broadcast, undefined);
  const named = await resolveDeployment(
    env({ DENO_DEPLOYMENT_ID: "1", STREAMO_BROADCAST: "room-42" }),
    ".streamo",
    writable,
  );
  assert.equal(named.broadcast, "room-42");
  const memory = await resolveDeployment(
    env({ DENO_DEPLOYMENT_ID: "1", STREAMO_STORAGE: "memory" }),
    ".streamo",
    writable,
  );
  assert.deepEqual([memory.storage, memory.broadcast], ["memory", undefined]);
});

Deno.test("a bad STREAMO_STORAGE, or a fan-out without a shared store, is refused with the reason", async () => {
  await assert.rejects(
    () => resolveDeployment(env({ STREAMO_STORAGE: "s3" }), ".streamo"),
    /STREAMO_STORAGE must be kv, file or memory, got "s3"/,
  );
  await assert.rejects(
    () =>
      resolveDeployment(
        env({ STREAMO_STORAGE: "file", STREAMO_BROADCAST: "x" }),
        ".streamo",
        writable,
      ),
    /needs STREAMO_STORAGE=kv \(the storage is file\)/,
  );
});
