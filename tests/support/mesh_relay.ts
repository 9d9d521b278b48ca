/**
 * One relay of a mesh, as its own process (for tests and benchmarks):
 *
 *     deno run -A tests/support/mesh_relay.ts --data DIR [--port N]
 *       [--upstream ws://host:port/] [--room USER:PASSWORD] [--iterations N]
 *
 * A relay (`createServer`) over a file store in DIR on 127.0.0.1. With
 * `--upstream` it syncs its whole registry with that relay (`registrySync`:
 * relay chaining) and passes the announces of its clients up, so a room
 * owned further up learns its members. With `--room` it is the chat server
 * (`startChatServer`) owning the room of those credentials. Prints
 * `READY <port>` once listening; SIGTERM closes it cleanly.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RepoRegistry } from "../../lib/registry/registry.ts";
import { createServer } from "../../lib/server/app.ts";
import { openFileStorage } from "../../lib/storage/file_storage.deno.ts";
import { registrySync, type SyncSession } from "../../lib/sync/client.ts";
import { startChatServer } from "../../routes/server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string" },
    port: { type: "string", default: "0" },
    upstream: { type: "string" },
    room: { type: "string" },
    iterations: { type: "string", default: "10" },
  },
  strict: true,
});
if (!values.data) throw new Error("mesh_relay: --data DIR is required");
const port = Number(values.port);
const keyIterations = Number(values.iterations);
let close: () => Promise<void>;
let listening: number;

if (values.room) {
  const [username, password] = values.room.split(":");
  const chat = await startChatServer({
    username,
    password,
    dataDir: values.data,
    port,
    keyIterations,
  });
  listening = chat.port;
  close = () => chat.close();
} else {
  const storage = await openFileStorage(values.data);
  const registry = new RepoRegistry({ storage });
  await registry.openStored();
  let upstream: SyncSession | undefined;
  const server = createServer({
    registry,
    info: {
      primaryKeyHex: "02" + "00".repeat(32),
      name: "chat",
      keyIterations,
    },
    onAnnounce: ({ key, topic }) => upstream?.announce(key, topic),
  });
  if (values.upstream) {
    upstream = registrySync(registry, {
      url: values.upstream,
      reconnect: { baseMs: 50, maxMs: 250 },
      keepaliveMs: 0,
      onAnnounce: ({ key, topic }) => server.relay.announce(key, topic),
    });
  }
  const http = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    server.fetch,
  );
  listening = http.addr.port;
  close = async () => {
    await upstream?.close();
    await server.close();
    await http.shutdown();
    await registry.close();
    await storage.close();
  };
}

Deno.addSignalListener("SIGTERM", async () => {
  await close();
  Deno.exit(0);
});
console.log(`READY ${listening}`);
