// The chat in real Chromium (playwright-core, Debian's chromium): one
// browser process for the whole suite, one independent context per person,
// servers on 127.0.0.1 port 0. Every wait is for a signal the page gives
// (`data-ready`, `data-me`, `data-connection`, a message showing), never a
// fixed sleep.

import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type ChatServer, startChatServer } from "../../routes/server.ts";
import {
  ensureBundle,
  haveChromium,
  launchBrowser,
  messageTexts,
  openChat,
  send,
  signIn,
  startServer,
  WAIT_MS,
  waitConnection,
  waitMessage,
  waitReady,
  watchErrors,
} from "./support.ts";

const SCREENSHOTS = new URL("../screenshots/", import.meta.url);

Deno.test({
  name: "chat in Chromium",
  ignore: !haveChromium(),
  async fn(t) {
    const manifest = await ensureBundle();
    const dataDir = await Deno.makeTempDir({ prefix: "streamo-chat-test-" });
    let server: ChatServer = await startServer(dataDir);
    const browser: Browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    const newContext = async (
      options: Parameters<Browser["newContext"]>[0] = {},
    ) => {
      const context = await browser.newContext({
        viewport: { width: 1100, height: 720 },
        timezoneId: "Europe/Berlin",
        locale: "en-GB",
        ...options,
      });
      contexts.push(context);
      return context;
    };
    const errors: string[] = [];
    const open = async (context: BrowserContext) => {
      const page = await openChat(context, server.url);
      errors.push(...watchErrors(page));
      return page;
    };

    try {
      const aliceContext = await newContext();
      const bobContext = await newContext();
      const alice: Page = await open(aliceContext);
      const bob: Page = await open(bobContext);
      let aliceKey = "";
      let bobKey = "";

      await t.step(
        "two people in independent contexts sign in and talk both ways",
        async () => {
          aliceKey = await signIn(alice, "alice", "alice's password");
          bobKey = await signIn(bob, "bob", "bob's password");
          assert.notEqual(aliceKey, bobKey);
          await send(alice, "Hi Bob, it's Alice");
          await waitMessage(bob, "Hi Bob, it's Alice");
          await send(bob, "Hello Alice!\nTwo lines from Bob");
          await waitMessage(alice, "Two lines from Bob");
          // Both see the same list, merged by `at`, with sender names.
          const texts = [
            "Hi Bob, it's Alice",
            "Hello Alice!\nTwo lines from Bob",
          ];
          assert.deepEqual(await messageTexts(alice), texts);
          assert.deepEqual(await messageTexts(bob), texts);
          const names = await bob.locator("li.msg .who").allTextContents();
          assert.deepEqual(names, ["alice", "bob"]);
          // The room added both to its members (SPEC §7).
          await waitFor(
            () => server.room.members().length === 2,
            "the room lists both",
          );
          assert.deepEqual(
            new Set(server.room.members()),
            new Set([aliceKey, bobKey]),
          );
        },
      );

      await t.step("presence shows the other person online", async () => {
        await alice.locator(`.members li.online[data-key="${bobKey}"]`)
          .waitFor();
        await bob.locator(`.members li.online[data-key="${aliceKey}"]`)
          .waitFor();
        // Typing shows while Bob types.
        await bob.getByRole("textbox", { name: "Message" }).pressSequentially(
          "typing",
          {
            delay: 10,
          },
        );
        await alice.locator(".typing", { hasText: "bob is typing…" }).waitFor();
        await bob.getByRole("textbox", { name: "Message" }).fill("");
      });

      await t.step(
        "a third visitor reads the history server-rendered, then live",
        async () => {
          // The raw HTML, before any JavaScript: history with names and times.
          const html = await (await fetch(server.url)).text();
          assert.ok(
            html.includes("Hi Bob, it&#39;s Alice") ||
              html.includes("Hi Bob, it's Alice"),
          );
          assert.ok(html.includes("Two lines from Bob"));
          assert.match(html, /<span class="who"[^>]*>alice<\/span>/);
          assert.match(
            html,
            /<time datetime="[^"]+"[^>]*>\d\d:\d\d( [AP]M)?<\/time>/,
          );

          // With JavaScript disabled the page still shows it.
          const noJs = await newContext({ javaScriptEnabled: false });
          const plain = await noJs.newPage();
          await plain.goto(server.url);
          assert.deepEqual(await messageTexts(plain), [
            "Hi Bob, it's Alice",
            "Hello Alice!\nTwo lines from Bob",
          ]);
          await noJs.close();

          // With JavaScript: hold the bundle back, mark the server's DOM, then
          // let it hydrate — the same nodes stay (no re-render, no flicker) and
          // nothing is duplicated.
          const carol = await newContext();
          const page = await carol.newPage();
          page.setDefaultTimeout(WAIT_MS);
          errors.push(...watchErrors(page));
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          await page.route(/\/static\/build\/mod\.js/, async (route) => {
            await held;
            await route.continue();
          });
          // DOMContentLoaded waits for module scripts: wait for the parsed list.
          await page.goto(server.url, { waitUntil: "commit" });
          await page.locator("#__streamo_islands").waitFor({
            state: "attached",
          });
          assert.equal(
            await page.evaluate(() =>
              document.documentElement.dataset.hydrated
            ),
            undefined,
          );
          assert.equal(await page.locator("li.msg").count(), 2);
          await page.evaluate(() => {
            for (const li of document.querySelectorAll("li.msg")) {
              (li as unknown as { ssr: boolean }).ssr = true;
            }
          });
          release();
          await waitReady(page);
          await waitConnection(page, "open");
          const kept = await page.evaluate(() =>
            [...document.querySelectorAll("li.msg")].map((li) =>
              (li as unknown as { ssr?: boolean }).ssr === true
            )
          );
          assert.deepEqual(
            kept,
            [true, true],
            "hydration kept the server's nodes",
          );
          // Times now in the visitor's zone (Europe/Berlin), like the others'.
          assert.deepEqual(
            await page.locator("li.msg time").allTextContents(),
            await alice.locator("li.msg time").allTextContents(),
          );
          // Live: a new message arrives without reloading, exactly once.
          await send(alice, "Welcome, visitor");
          await waitMessage(page, "Welcome, visitor");
          assert.deepEqual(await messageTexts(page), [
            "Hi Bob, it's Alice",
            "Hello Alice!\nTwo lines from Bob",
            "Welcome, visitor",
          ]);
          await carol.close();
        },
      );

      await t.step(
        "reload keeps history and identity (remember this device)",
        async () => {
          // Reload with the relay unreachable: what shows comes from this
          // browser's IndexedDB, and the key from the remembered identity.
          let relayReachable = false;
          await alice.routeWebSocket(/.*/, (ws) => {
            if (relayReachable) ws.connectToServer();
          });
          await alice.reload();
          await waitReady(alice);
          await alice.waitForSelector(`html[data-me="${aliceKey}"]`, {
            state: "attached",
          });
          const local = await alice.evaluate(() =>
            (globalThis as unknown as {
              streamoChat: { history(): { text: string }[] };
            }).streamoChat.history().map((l) => l.text)
          );
          assert.deepEqual(local, [
            "Hi Bob, it's Alice",
            "Hello Alice!\nTwo lines from Bob",
            "Welcome, visitor",
          ]);
          assert.notEqual(
            await alice.evaluate(() =>
              document.documentElement.dataset.connection
            ),
            "open",
          );
          relayReachable = true;
          await alice.reload();
          await waitReady(alice);
          await waitConnection(alice, "open");
          await alice.waitForSelector(`html[data-me="${aliceKey}"]`, {
            state: "attached",
          });
        },
      );

      await t.step(
        "a message written offline is delivered when the connection returns",
        async () => {
          await bobContext.setOffline(true);
          await bob.locator(".banner", { hasText: "You are offline" })
            .waitFor();
          // The page dropped its connection when the network went away.
          await waitConnection(bob, "reconnecting");
          try {
            await send(bob, "Written while offline");
            // Kept on Bob's device, not delivered: the relay has not got it.
            await bob.evaluate(() =>
              (globalThis as unknown as {
                streamoChat: { registry: { flush(): Promise<void> } };
              })
                .streamoChat.registry.flush()
            );
            const html = await (await fetch(server.url)).text();
            assert.ok(!html.includes("Written while offline"));
            assert.ok(
              !(await messageTexts(alice)).includes("Written while offline"),
            );
          } finally {
            await bobContext.setOffline(false);
          }
          await waitMessage(alice, "Written while offline");
          await waitConnection(bob, "open");
          await bob.locator(".banner:empty").waitFor({ state: "attached" });
        },
      );

      await t.step(
        "the server restarts and the pages reconnect by themselves",
        async () => {
          const port = server.port;
          await server.close();
          await waitConnection(alice, "reconnecting");
          await alice.locator(".banner", { hasText: "reconnecting" }).waitFor();
          server = await startServer(dataDir, port);
          await waitConnection(alice, "open");
          await waitConnection(bob, "open");
          await send(bob, "Back after the restart");
          await waitMessage(alice, "Back after the restart");
          // The restarted server kept the room and the history on disk.
          const html = await (await fetch(server.url)).text();
          assert.ok(html.includes("Written while offline"));
          assert.equal(server.room.members().length, 2);
        },
      );

      await t.step(
        "screenshots of the signed-in chat, desktop and mobile",
        async () => {
          await Deno.mkdir(SCREENSHOTS, { recursive: true });
          await send(
            alice,
            "Screenshots coming up — this one is a longer message to show how text wraps in the list at both widths.",
          );
          await waitMessage(bob, "Screenshots coming up");
          await alice.setViewportSize({ width: 1280, height: 800 });
          await alice.screenshot({
            path: new URL("chat-desktop.png", SCREENSHOTS).pathname,
          });
          const phone = await newContext({
            viewport: { width: 390, height: 844 },
            deviceScaleFactor: 2,
            isMobile: true,
            hasTouch: true,
          });
          const mobile = await open(phone);
          await signIn(mobile, "alice", "alice's password");
          await mobile.locator(`.members li.online[data-key="${bobKey}"]`)
            .waitFor({ state: "attached" });
          await mobile.screenshot({
            path: new URL("chat-mobile.png", SCREENSHOTS).pathname,
          });
          await phone.close();
        },
      );

      await t.step(
        "Shift+Enter adds a line; scrolled up, new messages wait behind a jump button",
        async () => {
          const box = alice.getByRole("textbox", { name: "Message" });
          await box.fill("");
          await box.pressSequentially("line one");
          await box.press("Shift+Enter");
          await box.pressSequentially("line two");
          await box.press("Enter");
          await waitMessage(bob, "line one\nline two");
          await alice.evaluate(() => {
            const chat = (globalThis as unknown as {
              streamoChat: { send(text: string): void };
            }).streamoChat;
            for (let i = 1; i <= 30; i++) chat.send(`filler ${i}`);
          });
          await waitMessage(bob, "filler 30");
          const atBottom = () =>
            bob.evaluate(() => {
              const el = document.getElementById("scroller")!;
              return el.scrollHeight - el.scrollTop - el.clientHeight < 50;
            });
          // At the bottom, the list follows new messages.
          await bob.waitForFunction(() => {
            const el = document.getElementById("scroller")!;
            return el.scrollHeight - el.scrollTop - el.clientHeight < 50;
          });
          // Scrolled up, it stays put and offers a jump instead.
          await bob.evaluate(() => {
            const el = document.getElementById("scroller")!;
            el.scrollTop = 0;
            el.dispatchEvent(new Event("scroll"));
          });
          await send(alice, "while bob reads old messages");
          await waitMessage(bob, "while bob reads old messages");
          const jump = bob.getByRole("button", { name: /1 new message/ });
          await jump.waitFor();
          assert.equal(await atBottom(), false);
          await jump.click();
          await jump.waitFor({ state: "detached" });
          await bob.waitForFunction(() => {
            const el = document.getElementById("scroller")!;
            return el.scrollHeight - el.scrollTop - el.clientHeight < 50;
          });
        },
      );

      await t.step(
        "presence: the other person is gone after they close",
        async () => {
          await alice.locator(`.members li.online[data-key="${bobKey}"]`)
            .waitFor();
          await bobContext.close();
          await alice.locator(`.members li.offline[data-key="${bobKey}"]`)
            .waitFor();
        },
      );

      await t.step(
        "at the default 600,000 iterations: progress, a different password, sign out",
        async () => {
          const real = await startChatServer({
            username: "room-owner",
            password: "room-password",
            dataDir: null,
            port: 0,
          });
          try {
            assert.equal(real.config.keyIterations, 600_000);
            const info = await (await fetch(new URL("/api/info", real.url)))
              .json();
            assert.equal(info.keyIterations, 600_000);
            assert.equal(info.primaryKeyHex, real.room.key);
            const first = await newContext();
            const one = await openChat(first, real.url);
            errors.push(...watchErrors(one));
            await one.getByLabel("Username").fill("erin");
            await one.getByLabel("Password").fill("first password");
            await one.getByRole("button", { name: "Sign in" }).click();
            // The key is derived in the browser, with a visible progress bar.
            await one.getByRole("progressbar", { name: "Deriving your key" })
              .waitFor();
            await one.waitForSelector("html[data-me]", { state: "attached" });
            await send(one, "erin was here");

            const second = await newContext();
            const two = await openChat(second, real.url);
            errors.push(...watchErrors(two));
            const otherKey = await signIn(two, "erin", "second password");
            assert.notEqual(
              otherKey,
              await one.evaluate(() => document.documentElement.dataset.me),
            );
            await two.locator(".notice", {
              hasText: "a different password is a different identity",
            }).waitFor();

            await two.getByRole("button", { name: "Sign out" }).click();
            await two.locator("form.signin").waitFor();
            assert.equal(
              await two.evaluate(() => document.documentElement.dataset.me),
              undefined,
            );
            await two.reload();
            await waitReady(two);
            await two.locator(
              "form.signin input[name=username]:not([disabled])",
            ).waitFor();
            assert.equal(
              await two.evaluate(() => document.documentElement.dataset.me),
              undefined,
              "signing out forgot the key on this device",
            );
            await first.close();
            await second.close();
          } finally {
            await real.close();
          }
        },
      );

      await t.step(
        "the page loads ≤ 60 KB of JavaScript for the islands",
        async () => {
          const page = await open(await newContext());
          const scripts = await page.evaluate(() =>
            performance.getEntriesByType("resource")
              .filter((e) => e.name.includes("/static/build/"))
              .map((e) => ({
                name: new URL(e.name).pathname.split("/").pop()!,
                bytes: (e as PerformanceResourceTiming).decodedBodySize,
              }))
          );
          const initial = scripts.filter((s) =>
            manifest.initial.includes(s.name.split("?")[0])
          );
          const islandsBytes = initial.reduce((n, s) => n + s.bytes, 0);
          console.log(
            `islands JS: ${islandsBytes} bytes (${
              initial.map((s) => `${s.name} ${s.bytes}`).join(", ")
            }); ` +
              `chat client loaded after hydration: ${manifest.lazyBytes} bytes (${
                manifest.lazy.join(", ")
              })`,
          );
          assert.equal(islandsBytes, manifest.initialBytes);
          assert.ok(
            islandsBytes <= 60 * 1024,
            `islands JS is ${islandsBytes} bytes`,
          );
        },
      );

      assert.deepEqual(errors, [], "no page errors");
    } finally {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting until ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
