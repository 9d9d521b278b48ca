/**
 * The chat page on the node's `--web` port, when it can be served. The page
 * (`routes/`) and its islands bundle (`static/build/`, written by
 * `deno task build`) live in a checkout of the repository, not in the
 * published package: `deno task serve` runs `routes/serve.ts`, which hands
 * the page to the CLI. Without them `/` explains how to get the page.
 *
 * @module
 */

import type { Hono } from "hono";
import type { RepoRegistry } from "../lib/registry/registry.ts";
import { DEFAULT_HISTORY_LIMIT } from "../lib/chat/model.ts";
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_PRESENCE_TIMEOUT_MS,
} from "../lib/chat/presence.ts";

/** The islands bundle's manifest, next to this package's `static/`. */
export const BUNDLE_MANIFEST: URL = new URL(
  "../static/build/manifest.json",
  import.meta.url,
);

/** What the page needs to know about the room. */
export interface PageRoom {
  /** The room's key. */
  roomKey: string;
  /** Its repo name. */
  name: string;
  /** PBKDF2 iterations clients use. */
  keyIterations: number;
}

/** Mounts the chat page on an app (`mountChat` of `routes/mod.ts` fits). */
export type MountChat = (app: Hono, options: {
  config: PageRoom & {
    historyLimit: number;
    heartbeatMs: number;
    presenceTimeoutMs: number;
  };
  /** Finds a repo the node holds (`RepoRegistry.get`). */
  repoOf: (
    key: string,
  ) => { get(...path: (string | number)[]): unknown } | undefined;
}) => void;

/** Whether the islands bundle is on this machine's file system. */
export async function bundleAvailable(
  manifest: URL = BUNDLE_MANIFEST,
): Promise<boolean> {
  if (manifest.protocol !== "file:") return false;
  try {
    return (await Deno.stat(manifest)).isFile;
  } catch {
    return false;
  }
}

/**
 * Mounts the chat page on `app` with `mountChat` when it is given and the
 * bundle is available (returns `true`), else a plain-text `/` that says why
 * there is no page (returns `false`). WebSocket upgrades on `/` pass
 * through either way.
 */
export async function mountChatPage(
  app: Hono,
  room: PageRoom,
  registry: RepoRegistry,
  mountChat: MountChat | undefined,
  manifest: URL = BUNDLE_MANIFEST,
): Promise<boolean> {
  if (mountChat && await bundleAvailable(manifest)) {
    mountChat(app, {
      config: {
        ...room,
        historyLimit: DEFAULT_HISTORY_LIMIT,
        heartbeatMs: DEFAULT_HEARTBEAT_MS,
        presenceTimeoutMs: DEFAULT_PRESENCE_TIMEOUT_MS,
      },
      repoOf: (key) => registry.get(key),
    });
    return true;
  }
  app.get("/", async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
      return await next();
    }
    return c.text(
      `This streamo node serves the sync WebSocket endpoint here, /api/info and /streams/:key.\n` +
        `The chat page is not served by this copy of streamo: run \`deno task build\` and then ` +
        `\`deno task serve -- --web\` in a checkout of the repository.\n` +
        `Room ${room.roomKey} (#${room.name})\n`,
      200,
      { "cache-control": "no-store" },
    );
  });
  return false;
}
