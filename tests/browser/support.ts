// Helpers for the browser tests: Debian's Chromium (never a downloaded one)
// driven by playwright-core, one persistent context — its own browser
// process and profile directory — per person or device, chat servers on
// 127.0.0.1 port 0, and page actions that wait for the page's own signals.

import { type BrowserContext, chromium, type Page } from "playwright-core";
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

/**
 * Whether to run the browser tests: when Chromium is installed, and always
 * when `STREAMO_REQUIRE_BROWSER` is set (CI sets it, so a missing Chromium
 * fails there instead of skipping). Elsewhere they are skipped without it.
 */
export function haveChromium(): boolean {
  if (Deno.env.get("STREAMO_REQUIRE_BROWSER")) return true;
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

/** Context options a device can set (viewport, time zone, offline…). */
export type DeviceOptions = Omit<
  NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>,
  "executablePath" | "args"
>;

/** One person's device: a Chromium with a profile of its own. */
export interface Device {
  /** What the test calls it (in errors). */
  readonly name: string;
  /** Its browser: one persistent context, so one IndexedDB, one cache. */
  readonly context: BrowserContext;
  /** Its profile (user-data) directory; `close` removes it. */
  readonly dir: string;
  /** Closes the browser and removes the profile (once; later calls wait). */
  close(): Promise<void>;
}

/**
 * Launches a device: `chromium.launchPersistentContext` over a new temporary
 * profile directory, with a desktop viewport, Berlin time and British
 * English unless `options` say otherwise.
 */
export async function launchDevice(
  name: string,
  options: DeviceOptions = {},
): Promise<Device> {
  const dir = await Deno.makeTempDir({ prefix: `streamo-${name}-` });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1100, height: 720 },
      timezoneId: "Europe/Berlin",
      locale: "en-GB",
      ...options,
    });
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(
      `Cannot launch Chromium (${CHROMIUM}) for device "${name}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  let closing: Promise<void> | undefined;
  return {
    name,
    context,
    dir,
    close: () =>
      closing ??= (async () => {
        try {
          await context.close();
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })(),
  };
}

/** Launches several devices at once; closes them all if one fails. */
export async function launchDevices(
  specs: [name: string, options?: DeviceOptions][],
): Promise<Device[]> {
  const launched = await Promise.allSettled(
    specs.map(([name, options]) => launchDevice(name, options)),
  );
  const failed = launched.find((r) => r.status === "rejected");
  if (failed) {
    for (const r of launched) {
      if (r.status === "fulfilled") await r.value.close().catch(() => {});
    }
    throw failed.reason;
  }
  return launched.map((r) => (r as PromiseFulfilledResult<Device>).value);
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

/**
 * Opens the chat in a tab of `context` (the blank tab a persistent context
 * starts with, if it is still unused) and waits until the page says it is
 * ready.
 */
export async function openChat(
  context: BrowserContext,
  url: string,
): Promise<Page> {
  const blank = context.pages().find((p) => p.url() === "about:blank");
  const page = blank ?? await context.newPage();
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

/** A repo's signed history, comparable across copies (page, relay). */
export interface HistoryState {
  /** Bytes in the stream. */
  bytes: number;
  /** Bytes up to the last signature. */
  signed: number;
  /** `[end, fingerprint]` of every signature: equal lists, equal history. */
  checkpoints: [number, string][];
}

/** The history state of a repo (in Deno: the relay's copy). */
export function historyState(
  repo: {
    byteLength: number;
    signedLength: number;
    checkpoints(recent?: number): [number, string][];
  } | undefined,
): HistoryState | undefined {
  if (!repo) return undefined;
  return {
    bytes: repo.byteLength,
    signed: repo.signedLength,
    checkpoints: repo.checkpoints(1 << 20),
  };
}

/** The history state of the page's copy of repo `key`. */
export function pageHistoryState(
  page: Page,
  key: string,
): Promise<HistoryState | undefined> {
  return page.evaluate((key) => {
    const repo = (globalThis as unknown as {
      streamoChat: {
        registry: {
          get(key: string): {
            byteLength: number;
            signedLength: number;
            checkpoints(recent?: number): [number, string][];
          } | undefined;
        };
      };
    }).streamoChat.registry.get(key);
    return repo
      ? {
        bytes: repo.byteLength,
        signed: repo.signedLength,
        checkpoints: repo.checkpoints(1 << 20),
      }
      : undefined;
  }, key);
}

/** Waits until the page's copy of repo `key` has `length` signed bytes. */
export async function waitSignedLength(
  page: Page,
  key: string,
  length: number,
): Promise<void> {
  await page.waitForFunction(
    ([key, length]) =>
      (globalThis as unknown as {
        streamoChat: {
          registry: { get(key: string): { signedLength: number } | undefined };
        };
      }).streamoChat.registry.get(key as string)?.signedLength === length,
    [key, length] as const,
    { timeout: WAIT_MS },
  );
}
