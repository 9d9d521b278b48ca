// The CLI's pure parts: settings precedence, origins, the box, and how the
// terminal chat shows lines.

import assert from "node:assert/strict";
import { box } from "../cli/box.ts";
import { resolveClientConfig } from "../cli/client_config.ts";
import {
  DEFAULT_OUTLET_PORT,
  DEFAULT_WEB_PORT,
  resolveNodeConfig,
} from "../cli/config.ts";
import { parseOrigin } from "../cli/origin.ts";
import { type MountChat, mountChatPage } from "../cli/page.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import { Hono } from "hono";
import {
  formatEvent,
  formatMessage,
  localTime,
  safeText,
} from "../cli/terminal.ts";

const env = (vars: Record<string, string>) => ({
  get: (name: string) => vars[name],
});
const noFile = () => Promise.reject(new Error("no such file"));

Deno.test("node settings: flags over environment over env file; --web and --outlet without a port take the defaults", async () => {
  const config = await resolveNodeConfig(
    [
      "--env-file",
      "--web",
      "--outlet",
      "--origin",
      "a:1",
      "--origin",
      "ws://b:2/x",
    ],
    env({ STREAMO_NAME: "fromenv", STREAMO_ORIGIN: "ignored:9" }),
    (path) =>
      path === ".env"
        ? Promise.resolve(
          "STREAMO_NAME=fromfile\nSTREAMO_DATA_DIR=/data\nSTREAMO_VERBOSE=1\n",
        )
        : noFile(),
  );
  assert.equal(config.web, DEFAULT_WEB_PORT);
  assert.equal(config.outlet, DEFAULT_OUTLET_PORT);
  assert.equal(config.name, "fromenv");
  assert.equal(config.dataDir, "/data");
  assert.equal(config.verbose, true);
  assert.deepEqual(config.origins.map(String), ["ws://a:1/", "ws://b:2/x"]);
  assert.equal(config.keyIterations, 600_000);
  assert.equal(config.username, undefined, "asked for later");

  const fromEnv = await resolveNodeConfig(
    [],
    env({ STREAMO_ORIGIN: "a:1, b:2", STREAMO_WEB: "0" }),
    noFile,
  );
  assert.deepEqual(fromEnv.origins.map(String), ["ws://a:1/", "ws://b:2/"]);
  assert.equal(fromEnv.web, 0);
  assert.equal(fromEnv.outlet, undefined);
  assert.equal(fromEnv.dataDir, ".streamo");
  await assert.rejects(
    () =>
      resolveNodeConfig(["--web", "9000", "--outlet", "9000"], env({}), noFile),
    /--web and --outlet both ask for port 9000/,
  );
});

Deno.test("participant settings: --server takes host:port or a URL, default localhost:8000", async () => {
  const plain = await resolveClientConfig(["--"], env({}), noFile);
  assert.equal(plain.server.href, "ws://localhost:8000/");
  const fromEnv = await resolveClientConfig(
    ["--username", "u"],
    env({ STREAMO_SERVER: "https://chat.example", STREAMO_PASSWORD: "p" }),
    noFile,
  );
  assert.equal(fromEnv.server.href, "wss://chat.example/");
  assert.equal(fromEnv.username, "u");
  assert.equal(fromEnv.password, "p");
  await assert.rejects(
    () => resolveClientConfig(["--server", "nope"], env({}), noFile),
    /--server "nope"/,
  );
});

Deno.test("parseOrigin accepts host:port and ws/http URLs, and says why it refuses others", () => {
  assert.equal(parseOrigin("localhost:8000").href, "ws://localhost:8000/");
  assert.equal(parseOrigin("[::1]:8000").href, "ws://[::1]:8000/");
  assert.equal(parseOrigin("http://h:1/a").href, "ws://h:1/a");
  assert.equal(parseOrigin("wss://h/").href, "wss://h/");
  assert.throws(() => parseOrigin("localhost"), /is not host:port/);
  assert.throws(() => parseOrigin("h:0"), /port 0 is not from 1 to 65535/);
  assert.throws(() => parseOrigin("h:70000"), /port 70000/);
  assert.throws(() => parseOrigin("mailto://x"), /mailto: is not ws:/);
  assert.throws(() => parseOrigin(""), /it is empty/);
});

Deno.test("the box fits its longest line and keeps values whole", () => {
  const key = "02" + "ab".repeat(32);
  const text = box("streamo 1.0", [["name", "chat"], ["key", key]]);
  const lines = text.split("\n");
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, text);
  assert.ok(lines.some((l) => l.includes(`key   ${key}`)), text);
});

Deno.test("chat lines show local time and name, indent continuation lines and drop terminal escapes", () => {
  const at = new Date(2030, 0, 2, 3, 4, 5).getTime();
  assert.equal(localTime(at, at + 1000), "03:04:05");
  assert.equal(
    localTime(at, at + 2 * 86_400_000),
    "2030-01-02 03:04:05",
  );
  assert.equal(
    formatMessage({ name: "bob", text: "one\ntwo", at }, at),
    "[03:04:05] bob: one\n                two",
  );
  assert.equal(safeText("a\x1b[2Jb\x07c\r\td"), "a[2Jbc\td");
  assert.equal(formatEvent("x\x1b left"), "* x left");
});

Deno.test("the chat page is mounted only with the page code and its bundle; otherwise / explains", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-page-" });
  try {
    const manifest = new URL(`file://${dir}/manifest.json`);
    const room = {
      roomKey: "02" + "cd".repeat(32),
      name: "chat",
      keyIterations: 1,
    };
    const mounted: unknown[] = [];
    const mountChat: MountChat = (_app, options) =>
      mounted.push(options.config);
    const registry = new RepoRegistry();

    const bare = new Hono();
    assert.equal(
      await mountChatPage(bare, room, registry, mountChat, manifest),
      false,
    );
    assert.equal(mounted.length, 0, "no bundle, no page");
    const text = await (await bare.request("/")).text();
    assert.match(text, /deno task serve/);
    assert.ok(text.includes(room.roomKey));

    await Deno.writeTextFile(manifest, "{}");
    assert.equal(
      await mountChatPage(new Hono(), room, registry, undefined, manifest),
      false,
    );
    assert.equal(
      await mountChatPage(new Hono(), room, registry, mountChat, manifest),
      true,
    );
    assert.deepEqual(mounted, [{
      ...room,
      historyLimit: 200,
      heartbeatMs: 10_000,
      presenceTimeoutMs: 25_000,
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
