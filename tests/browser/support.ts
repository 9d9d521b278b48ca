// Helpers for the browser tests: one Chromium process (Debian's, never a
// downloaded one) driven by playwright-core, chat servers on 127.0.0.1 port
// 0, and page actions that wait for the page's own ready signals.

import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
} from "playwright-core";
import { type ChatServer, startChatServer } from "../../routes/server.ts";
import {
  buildIslands,
  type IslandsManifest,
} from "../../scripts/build_islands.ts";

/** Where Debian's chromium lives (`apt-get install chromium`). */
export const CHROMIUM = Deno.env.get("STREAMO_CHROMIUM") ?? "/usr/bin/chromium";

/** Flags for a quiet, headless, sandbox-free Chromium. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How long any single wait may take before the test fails. */
export const WAIT_MS = 15_000;

/** Whether Chromium is installed; the browser tests are skipped without it. */
export function haveChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

let built: Promise<IslandsManifest> | undefined;

/** Bundles the islands once per test run. */
export function ensureBundle(): Promise<IslandsManifest> {
  return built ??= buildIslands({ quiet: true });
}

/** Launches the shared Chromium process. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
  });
}

/** Settings of the test servers: fast keys, fast presence. */
export const TEST_SERVER = {
  username: "room-owner",
  password: "room-password",
  keyIterations: 1_000,
  heartbeatMs: 300,
  presenceTimeoutMs: 1_500,
} as const;

/** Starts a chat server on 127.0.0.1 (port 0 unless given). */
export function startServer(
  dataDir: string | null,
  port = 0,
): Promise<ChatServer> {
  return startChatServer({
    ...TEST_SERVER,
    dataDir,
    port,
    hostname: "127.0.0.1",
  });
}

/** A page's console errors and uncaught exceptions, to assert none happened. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") {
      const text = message.text();
      // Dropped connections are expected while tests go offline or restart.
      if (
        /WebSocket|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(text)
      ) {
        return;
      }
      errors.push(`console: ${text}`);
    }
  });
  return errors;
}

/** Opens the chat and waits until the page says it is ready. */
export async function openChat(
  context: BrowserContext,
  url: string,
): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(url);
  await waitReady(page);
  return page;
}

/** Waits for `<html data-ready>` (hydrated, local data loaded, connecting). */
export async function waitReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const d = document.documentElement.dataset;
      if (d.failed) throw new Error(`the page failed to start: ${d.failed}`);
      return d.ready === "1";
    },
    undefined,
    { timeout: WAIT_MS },
  );
}

/** Waits until the page's connection status is `status`. */
export async function waitConnection(
  page: Page,
  status: string,
): Promise<void> {
  await page.waitForSelector(`html[data-connection="${status}"]`, {
    state: "attached",
    timeout: WAIT_MS,
  });
}

/** Signs in through the form and waits until the page has your key. */
export async function signIn(
  page: Page,
  username: string,
  password: string,
  remember = true,
): Promise<string> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  const box = page.getByRole("checkbox", { name: /Remember this device/ });
  if ((await box.isChecked()) !== remember) await box.click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("html[data-me]", {
    state: "attached",
    timeout: WAIT_MS,
  });
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  return (await page.evaluate(() => document.documentElement.dataset.me))!;
}

/** Types `text` in the composer and presses Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
  await page.locator("li.msg .text", { hasText: text }).first().waitFor();
}

/** Waits until a message with `text` shows on `page`. */
export async function waitMessage(page: Page, text: string): Promise<void> {
  await page.locator("li.msg .text", { hasText: text }).first().waitFor({
    timeout: WAIT_MS,
  });
}

/** The texts of the messages shown, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator("li.msg .text").allTextContents();
}
