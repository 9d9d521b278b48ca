// The chat in real Chromium (playwright-core, Debian's chromium): every
// person or device is a persistent context of its own — its own browser
// process and profile, so its own IndexedDB — and servers listen on
// 127.0.0.1 port 0. Every wait is for a signal the page gives (`data-ready`,
// `data-me`, `data-connection`, a message or notice showing), never a fixed
// sleep.

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type ChatServer, startChatServer } from "../../routes/server.ts";
import {
  type Device,
  ensureBundle,
  haveChromium,
  historyState,
  launchDevices,
  messageTexts,
  openChat,
  pageHistoryState,
  send,
  signIn,
  startServer,
  WAIT_MS,
  waitConnection,
  waitMessage,
  waitReady,
  waitSignedLength,
  watchErrors,
} from "./support.ts";

const SCREENSHOTS = new URL("../screenshots/", import.meta.url);

function screenshotPath(name: string): string {
  return new URL(name, SCREENSHOTS).pathname;
}

/** The texts of the messages in a participant's repo (relay side). */
function repoTexts(repo: { get(...path: string[]): unknown } | undefined) {
  return ((repo?.get("messages") ?? []) as { text: string }[]).map((m) =>
    m.text
  );
}

function assertOnceEach(texts: string[], expected: string[], where: string) {
  for (const text of expected) {
    assert.equal(
      texts.filter((t) => t === text).length,
      1,
      `${where} shows "${text}" once: ${JSON.stringify(texts)}`,
    );
  }
}

Deno.test({
  name: "chat in Chromium",
  ignore: !haveChromium(),
  async fn(t) {
    const manifest = await ensureBundle();
    const dataDir = await Deno.makeTempDir({ prefix: "streamo-chat-test-" });
    let server: ChatServer = await startServer(dataDir);
    const devices: Device[] = [];
    const errors: string[] = [];
    const open = async (device: Device, url = server.url) => {
      const page = await openChat(device.context, url);
      errors.push(...watchErrors(page));
      return page;
    };

    try {
      // Alice's laptop, Bob, a visitor, a visitor without JavaScript and
      // Alice's phone: launched together, each its own browser.
      devices.push(
        ...await launchDevices([
          ["alice-laptop"],
          ["bob"],
          ["carol"],
          ["no-js", { javaScriptEnabled: false }],
          ["alice-phone", {
            viewport: { width: 390, height: 844 },
            deviceScaleFactor: 2,
            isMobile: true,
            hasTouch: true,
          }],
        ]),
      );
      const [laptop, bobDevice, carol, noJs, phoneDevice] = devices;
      const alice: Page = await open(laptop);
      let bob: Page = await open(bobDevice);
      let phone: Page | undefined;
      let aliceKey = "";
      let bobKey = "";

      await t.step(
        "two people on their own devices sign in and talk both ways",
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
          // The room added both to its members (SPEC §7): each page lists
          // the other only once the room repo it synced says so.
          await alice.locator(`.members li[data-key="${bobKey}"]`).waitFor();
          await bob.locator(`.members li[data-key="${aliceKey}"]`).waitFor();
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
          { delay: 10 },
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
          const plain = noJs.context.pages()[0] ?? await noJs.context.newPage();
          await plain.goto(server.url);
          assert.deepEqual(await messageTexts(plain), [
            "Hi Bob, it's Alice",
            "Hello Alice!\nTwo lines from Bob",
          ]);
          await noJs.close();

          // With JavaScript: hold the bundle back, mark the server's DOM, then
          // let it hydrate — the same nodes stay (no re-render, no flicker) and
          // nothing is duplicated.
          const page = carol.context.pages()[0] ??
            await carol.context.newPage();
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
          await page.close();
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
          await bobDevice.context.setOffline(true);
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
            await bobDevice.context.setOffline(false);
          }
          await waitMessage(alice, "Written while offline");
          await waitConnection(bob, "open");
          await bob.locator(".banner:empty").waitFor({ state: "attached" });
        },
      );

      const offline = [
        "laptop: written offline, 1 of 2",
        "laptop: written offline, 2 of 2",
        "phone: written offline",
      ];

      await t.step(
        "one identity on two devices: both write while cut off, then each shows every message once, the phone says it merged, and the relay keeps one history",
        async () => {
          phone = await open(phoneDevice);
          assert.equal(
            await signIn(phone, "alice", "alice's password"),
            aliceKey,
            "same username and password, same identity",
          );
          // Once the phone's first message is through, both devices hold
          // the same history of Alice's repo.
          await send(phone, "Alice here, on my phone");
          await waitMessage(alice, "Alice here, on my phone");

          // Cut both off: neither can sync, with the relay or each other.
          await laptop.context.setOffline(true);
          await phoneDevice.context.setOffline(true);
          for (const page of [alice, phone]) {
            await page.locator(".banner", { hasText: "You are offline" })
              .waitFor();
            await waitConnection(page, "reconnecting");
          }
          await send(alice, offline[0]);
          await send(alice, offline[1]);
          await send(phone, offline[2]);

          // The laptop comes back first: the relay takes its history.
          await laptop.context.setOffline(false);
          await waitMessage(bob, offline[1]);
          assert.deepEqual(
            repoTexts(server.registry.get(aliceKey)).slice(-2),
            offline.slice(0, 2),
          );
          // Then the phone: its history forked from the relay's, so it
          // adopts the relay's and re-commits its own message on top.
          await phoneDevice.context.setOffline(false);
          const notice = phone.locator(".notice.merged");
          await notice.waitFor();
          assert.equal(
            (await notice.locator("span").textContent())?.trim(),
            "Merged 2 messages written on another device while this one was out of sync; your 1 message from here comes after them. Nothing was lost.",
          );
          for (const page of [alice, bob]) await waitMessage(page, offline[2]);
          await waitMessage(phone, offline[1]);

          // Every page shows every message once, in the same order.
          const shown = await messageTexts(alice);
          assertOnceEach(
            shown,
            [...offline, "Alice here, on my phone"],
            "the laptop",
          );
          assert.deepEqual(await messageTexts(phone), shown);
          assert.deepEqual(await messageTexts(bob), shown);
          assert.equal(
            await alice.locator(".notice.merged").count(),
            0,
            "the laptop did not fork, so it merged nothing",
          );

          // The relay holds one history — no fork — and both devices hold
          // exactly that history, byte for byte.
          const relay = server.registry.get(aliceKey);
          assertOnceEach(repoTexts(relay), offline, "the relay");
          const want = historyState(relay)!;
          assert.equal(want.bytes, want.signed, "the relay holds only signed");
          for (const page of [alice, phone]) {
            await waitSignedLength(page, aliceKey, want.signed);
            assert.deepEqual(await pageHistoryState(page, aliceKey), want);
          }
          await Deno.mkdir(SCREENSHOTS, { recursive: true });
          await phone.screenshot({ path: screenshotPath("chat-merged.png") });
          await notice.getByRole("button", { name: /Dismiss/ }).click();
          await notice.waitFor({ state: "detached" });
        },
      );

      await t.step(
        "the merged device's IndexedDB holds the rebased history after a reload",
        async () => {
          const page = phone!;
          const want = historyState(server.registry.get(aliceKey))!;
          // Reload with the relay unreachable: only IndexedDB can answer.
          let relayReachable = false;
          await page.routeWebSocket(/.*/, (ws) => {
            if (relayReachable) ws.connectToServer();
          });
          await page.reload();
          await waitReady(page);
          await page.waitForSelector(`html[data-me="${aliceKey}"]`, {
            state: "attached",
          });
          assert.notEqual(
            await page.evaluate(() =>
              document.documentElement.dataset.connection
            ),
            "open",
          );
          assert.deepEqual(
            await pageHistoryState(page, aliceKey),
            want,
            "the stored copy is the rebased one, not the fork",
          );
          const local = await page.evaluate((key) =>
            (globalThis as unknown as {
              streamoChat: { history(): { key: string; text: string }[] };
            }).streamoChat.history().filter((l) => l.key === key).map((l) =>
              l.text
            ), aliceKey);
          assertOnceEach(
            local,
            [...offline, "Alice here, on my phone", "Welcome, visitor"],
            "the reloaded phone",
          );
          relayReachable = true;
          await page.reload();
          await waitReady(page);
          await waitConnection(page, "open");
        },
      );

      await t.step(
        "the server restarts and the pages reconnect by themselves",
        async () => {
          const port = server.port;
          const before = historyState(server.registry.get(aliceKey));
          await server.close();
          await waitConnection(alice, "reconnecting");
          await alice.locator(".banner", { hasText: "reconnecting" }).waitFor();
          server = await startServer(dataDir, port);
          // What the relay stored of Alice is the one history, unforked.
          assert.deepEqual(historyState(server.registry.get(aliceKey)), before);
          await waitConnection(alice, "open");
          await waitConnection(bob, "open");
          await waitConnection(phone!, "open");
          await send(bob, "Back after the restart");
          await waitMessage(alice, "Back after the restart");
          // The restarted server kept the room and the history on disk.
          const html = await (await fetch(server.url)).text();
          assert.ok(html.includes("Written while offline"));
          assert.ok(html.includes(offline[2]));
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
          await waitMessage(phone!, "Screenshots coming up");
          await alice.setViewportSize({ width: 1280, height: 800 });
          await alice.screenshot({ path: screenshotPath("chat-desktop.png") });
          await phone!.locator(`.members li.online[data-key="${bobKey}"]`)
            .waitFor({ state: "attached" });
          await phone!.screenshot({ path: screenshotPath("chat-mobile.png") });
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
        "presence: the other person is gone after they close the page",
        async () => {
          await alice.locator(`.members li.online[data-key="${bobKey}"]`)
            .waitFor();
          await bob.close();
          await alice.locator(`.members li.offline[data-key="${bobKey}"]`)
            .waitFor();
        },
      );

      await t.step(
        "at the default 600,000 iterations: progress, a different password, sign out detaches the key",
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
            const one = await open(carol, real.url);
            await one.getByLabel("Username").fill("erin");
            await one.getByLabel("Password").fill("first password");
            await one.getByRole("button", { name: "Sign in" }).click();
            // The key is derived in the browser, with a visible progress bar.
            await one.getByRole("progressbar", { name: "Deriving your key" })
              .waitFor();
            await one.waitForSelector("html[data-me]", { state: "attached" });
            await send(one, "erin was here");

            bob = await open(bobDevice, real.url);
            const two = bob;
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
            // The page let go of the key: what it writes now stays unsigned,
            // so nothing can pass for erin.
            const afterSignOut = await two.evaluate(async (key) => {
              const repo = (globalThis as unknown as {
                streamoChat: {
                  registry: {
                    get(key: string): {
                      canSign: boolean;
                      signedLength: number;
                      byteLength: number;
                      push(...args: unknown[]): number;
                      whenSigned(): Promise<void>;
                    };
                  };
                };
              }).streamoChat.registry.get(key);
              const canSign = repo.canSign;
              const signed = repo.signedLength;
              repo.push("messages", { text: "not erin", at: Date.now() });
              await repo.whenSigned();
              return {
                canSign,
                stillSigned: repo.signedLength,
                signed,
                unsigned: repo.byteLength - repo.signedLength,
              };
            }, otherKey);
            assert.equal(afterSignOut.canSign, false);
            assert.equal(afterSignOut.stillSigned, afterSignOut.signed);
            assert.ok(afterSignOut.unsigned > 0, "the new commit is unsigned");

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
            await one.close();
            await two.close();
          } finally {
            await real.close();
          }
        },
      );

      await t.step(
        "the page loads ≤ 60 KB of JavaScript for the islands",
        async () => {
          // A first visit: no cache, every script fetched and counted.
          const page = await carol.context.newPage();
          const cdp = await carol.context.newCDPSession(page);
          await cdp.send("Network.enable");
          await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
          page.setDefaultTimeout(WAIT_MS);
          errors.push(...watchErrors(page));
          await page.goto(server.url);
          await waitReady(page);
          const scripts = await page.evaluate(() =>
            performance.getEntriesByType("resource")
              .filter((e) => e.name.includes("/static/build/"))
              .map((e) => ({
                name: new URL(e.name).pathname.split("/").pop()!,
                bytes: (e as PerformanceResourceTiming).decodedBodySize,
              }))
          );
          await cdp.detach();
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
      for (const device of devices) {
        await device.close().catch((error) =>
          console.error(`Closing device ${device.name} failed:`, error)
        );
      }
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
