// The server-rendered chat page, in process (Hono `app.request`), from a
// pre-filled registry: history merged by `at`, names, times, hydration
// markers and props, escaping, the 200-message window, static files.

import assert from "node:assert/strict";
import { Hono } from "hono";
import { RepoRegistry } from "../lib/registry/mod.ts";
import { Signer } from "../lib/identity/mod.ts";
import { addMember, initProfile } from "../lib/chat/model.ts";
import { mountChat } from "../routes/mod.ts";
import type { ChatPageConfig } from "../routes/index.tsx";

async function member(
  registry: RepoRegistry,
  username: string,
) {
  const signer = new Signer(username, "pw", 1);
  const key = await signer.publicKeyHex("chat");
  const repo = await registry.open(key);
  await repo.attachSigner(signer, "chat");
  initProfile(repo, username);
  return { key, repo };
}

async function setup() {
  const registry = new RepoRegistry();
  const roomSigner = new Signer("server", "pw", 1);
  const roomKey = await roomSigner.publicKeyHex("chat");
  const room = await registry.open(roomKey);
  await room.attachSigner(roomSigner, "chat");
  room.set({ members: [] });
  const alice = await member(registry, "alice");
  const bob = await member(registry, "bob");
  addMember(room, alice.key);
  addMember(room, bob.key);
  const config: ChatPageConfig = {
    roomKey,
    name: "chat",
    keyIterations: 600_000,
    historyLimit: 200,
    heartbeatMs: 10_000,
    presenceTimeoutMs: 25_000,
  };
  const app = new Hono();
  mountChat(app, { config, repoOf: (key) => registry.get(key) });
  return { registry, room, alice, bob, app, config };
}

function islandProps(html: string): unknown[] {
  const m = html.match(
    /<script type="application\/json" id="__streamo_islands">(.*?)<\/script>/s,
  );
  assert.ok(m, "the page carries the islands' props");
  return JSON.parse(m[1]);
}

Deno.test("GET / renders the room's history merged by `at`, with names and times", async () => {
  const { alice, bob, app, registry } = await setup();
  const t = Date.UTC(2025, 0, 15, 9, 30);
  alice.repo.push("messages", { text: "first from alice", at: t });
  bob.repo.push("messages", { text: "bob replies", at: t + 60_000 });
  alice.repo.push("messages", { text: "alice again", at: t + 120_000 });
  bob.repo.push("messages", { text: "bob earlier", at: t - 60_000 });

  const res = await app.request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/html/);
  const html = await res.text();
  const order = [
    "bob earlier",
    "first from alice",
    "bob replies",
    "alice again",
  ].map((text) => html.indexOf(text));
  assert.ok(order.every((i) => i > 0), "every message is in the HTML");
  assert.deepEqual([...order].sort((a, b) => a - b), order, "ordered by at");
  assert.match(html, /<span class="who"[^>]*>alice<\/span>/);
  assert.match(html, /<span class="who"[^>]*>bob<\/span>/);
  // Times in UTC without a time-zone cookie; the <time> carries the instant.
  assert.match(
    html,
    /<time datetime="2025-01-15T09:30:00.000Z"[^>]*>09:30 AM<\/time>/,
  );
  assert.match(html, /Wednesday, January 15, 2025/);
  // Hydration markers and the props the islands hydrate with.
  for (
    const name of [
      "MessageList",
      "Composer",
      "SignIn",
      "Members",
      "ConnectionBanner",
    ]
  ) {
    assert.match(
      html,
      new RegExp(`data-island="${name}" data-island-props="\\d+"`),
    );
  }
  const props = islandProps(html);
  const list = props.find((p) =>
    (p as { lines?: unknown }).lines !== undefined
  ) as { lines: { text: string; id: string }[] };
  assert.deepEqual(list.lines.map((l) => l.text), [
    "bob earlier",
    "first from alice",
    "bob replies",
    "alice again",
  ]);
  assert.equal(list.lines[1].id, `${alice.key}:0`);
  await registry.close();
});

Deno.test("GET / uses the time zone and locale from the browser's cookie", async () => {
  const { alice, app, registry } = await setup();
  alice.repo.push("messages", { text: "hi", at: Date.UTC(2025, 5, 1, 22, 5) });
  const res = await app.request("/", {
    headers: { cookie: "streamo_tz=" + encodeURIComponent("Asia/Tokyo|de-DE") },
  });
  const html = await res.text();
  // 22:05 UTC is 07:05 the next day in Tokyo.
  assert.match(html, />07:05<\/time>/);
  assert.match(html, /Montag, 2\. Juni 2025/);
  await registry.close();
});

Deno.test("GET / shows the last 200 messages and escapes message text", async () => {
  const { alice, bob, app, registry } = await setup();
  for (let i = 0; i < 150; i++) {
    alice.repo.push("messages", { text: `a${i}`, at: 1_000 + 2 * i });
    bob.repo.push("messages", { text: `b${i}`, at: 1_001 + 2 * i });
  }
  bob.repo.push("messages", {
    text: "</script><script>alert(1)</script> & <b>bold</b>",
    at: 5_000,
  });
  const html = await (await app.request("/")).text();
  const props = islandProps(html);
  const list = props.find((p) =>
    (p as { lines?: unknown }).lines !== undefined
  ) as { lines: { text: string }[] };
  assert.equal(list.lines.length, 200);
  // 301 messages alternate a0, b0, a1, b1, …: the 200 newest start at b50.
  assert.equal(
    list.lines[0].text,
    "b50",
    "the oldest shown is the 200th newest",
  );
  assert.equal(list.lines[199].text.startsWith("</script>"), true);
  assert.ok(!html.includes("<script>alert(1)</script>"), "text is escaped");
  assert.ok(
    html.includes("&lt;b>bold&lt;/b>") || html.includes("&lt;b&gt;bold"),
  );
  assert.equal((html.match(/class="msg/g) ?? []).length, 200);
  await registry.close();
});

Deno.test("GET / of an empty room shows the empty state and the sign-in form", async () => {
  const { app, registry } = await setup();
  const html = await (await app.request("/")).text();
  assert.match(html, /No messages yet/);
  assert.match(html, /<form class="signin"/);
  assert.match(html, /600,000 PBKDF2 rounds/);
  assert.match(html, /a different password is simply a different\s+identity/);
  assert.match(html, /Members <span class="count">2<\/span>/);
  await registry.close();
});

Deno.test("GET / with a WebSocket upgrade passes on to the relay's handler", async () => {
  const { app, registry } = await setup();
  app.get("/", (c) => c.text("relay"));
  const res = await app.request("/", { headers: { upgrade: "websocket" } });
  assert.equal(await res.text(), "relay");
  await registry.close();
});

Deno.test("GET /static/* serves the stylesheet and refuses paths outside static/", async () => {
  const { app, registry } = await setup();
  const css = await app.request("/static/chat.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type")!, /text\/css/);
  const etag = css.headers.get("etag")!;
  assert.ok((await css.text()).includes(".msg"));
  const again = await app.request("/static/chat.css", {
    headers: { "if-none-match": etag },
  });
  assert.equal(again.status, 304);
  await again.body?.cancel();
  for (
    const path of [
      "/static/../deno.json",
      "/static/%2e%2e/deno.json",
      "/static/nope.js",
    ]
  ) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
  await registry.close();
});
