/**
 * The chat's HTTP routes, mounted on the server's Hono app: `GET /` (the
 * server-rendered chat page; WebSocket upgrades on `/` pass through to the
 * relay) and `GET /static/*` (stylesheet and the islands bundle).
 *
 * @module
 */

import type { Context, Hono, Next } from "hono";
import { getCookie } from "hono/cookie";
import type { ChatReadable } from "../lib/chat/model.ts";
import { parseTimeCookie, type TimeSettings } from "../components/format.ts";
import { type ChatPageConfig, renderChatPage } from "./index.tsx";

export type { ChatPageConfig };

/** Options for {@linkcode mountChat}. */
export interface ChatRoutesOptions {
  /** The client settings embedded in the page. */
  config: ChatPageConfig;
  /** Finds a repo the server holds (the room and member repos). */
  repoOf: (key: string) => ChatReadable | undefined;
  /** Directory served at `/static/` (default: the repo's `static/`). */
  staticDir?: URL;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

/** The islands bundle's manifest under the static directory. */
export const MANIFEST_PATH = "build/manifest.json";

interface Scripts {
  version: string;
  entry: string;
  preload: string[];
}

/**
 * Reads the bundle's entry and the modules to preload from its manifest
 * under `staticDir`; the manifest is parsed again only when it changes.
 */
function scriptsReader(staticDir: URL): () => Promise<Scripts | undefined> {
  const url = new URL(MANIFEST_PATH, staticDir);
  let cached: Scripts | undefined;
  return async () => {
    const version = await fileVersion(url);
    if (!version) return undefined;
    if (cached?.version === version) return cached;
    const manifest = JSON.parse(await Deno.readTextFile(url)) as {
      entry: string;
      initial: string[];
      lazy: string[];
    };
    const entryVersion = await fileVersion(
      new URL(`build/${manifest.entry}`, staticDir),
    );
    cached = {
      version,
      entry: `/static/build/${manifest.entry}?v=${entryVersion}`,
      // Chunk names carry content hashes; the lazy client is preloaded too
      // so that it downloads while the islands hydrate.
      preload: [...manifest.initial, ...manifest.lazy]
        .filter((name) => name !== manifest.entry)
        .map((name) => `/static/build/${name}`),
    };
    return cached;
  };
}

async function fileVersion(url: URL): Promise<string | undefined> {
  try {
    const info = await Deno.stat(url);
    if (!info.isFile) return undefined;
    return `${info.size.toString(36)}-${
      (info.mtime?.getTime() ?? 0).toString(36)
    }`;
  } catch {
    return undefined;
  }
}

function localeFrom(header: string | undefined): string | undefined {
  const first = header?.split(",")[0]?.split(";")[0]?.trim();
  return first && /^[A-Za-z0-9-]{1,35}$/.test(first) ? first : undefined;
}

/**
 * Adds the chat page and static files to `app`. Register it after the
 * relay's WebSocket route or before: `GET /` only answers requests that are
 * not WebSocket upgrades and passes the others on.
 */
export function mountChat(app: Hono, options: ChatRoutesOptions): void {
  const staticDir = options.staticDir ?? new URL("../static/", import.meta.url);
  const scripts = scriptsReader(staticDir);

  app.get("/", async (c: Context, next: Next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
      return await next();
    }
    const fromCookie = parseTimeCookie(getCookie(c, "streamo_tz"));
    const time: TimeSettings = {
      timeZone: fromCookie.timeZone ?? "UTC",
      locale: fromCookie.locale ?? localeFrom(c.req.header("accept-language")),
    };
    const [page, css] = await Promise.all([
      scripts().catch((error) => {
        console.error("Cannot read the islands manifest:", error);
        return undefined;
      }),
      fileVersion(new URL("chat.css", staticDir)),
    ]);
    let html: string;
    try {
      html = renderChatPage({
        config: options.config,
        room: options.repoOf(options.config.roomKey),
        repoOf: options.repoOf,
        time,
        script: page?.entry,
        preload: page?.preload,
        stylesheet: css ? `/static/chat.css?v=${css}` : undefined,
      });
    } catch (error) {
      console.error("Cannot render the chat page:", error);
      return c.text(
        `Cannot render the chat page: ${
          error instanceof Error ? error.message : String(error)
        }\n`,
        500,
      );
    }
    return c.html(html, 200, { "cache-control": "no-store" });
  });

  app.get("/static/*", async (c: Context) => {
    const path = decodeURIComponent(c.req.path.slice("/static/".length));
    if (
      !path || path.split("/").some((part) => part === ".." || part === "") ||
      path.includes("\\") || path.includes("\0")
    ) {
      return c.text("Not found\n", 404);
    }
    const file = new URL(path, staticDir);
    const version = await fileVersion(file);
    if (!version) return c.text(`Not found: /static/${path}\n`, 404);
    const etag = `"${version}"`;
    const headers: Record<string, string> = {
      "content-type": TYPES[path.split(".").pop() ?? ""] ??
        "application/octet-stream",
      "cache-control": "no-cache",
      etag,
    };
    if (c.req.header("if-none-match") === etag) {
      return c.body(null, 304, headers);
    }
    return c.body(await Deno.readFile(file), 200, headers);
  });
}
