/**
 * The chat page, rendered on the server: the room's recent history is in the
 * HTML (readable without JavaScript); the islands hydrate on top of it.
 *
 * @module
 */

import { renderToString } from "preact-render-to-string";
import {
  island,
  IslandCollector,
  islandPropsScript,
  IslandRoot,
  scriptJson,
} from "../lib/preact/islands.ts";
import {
  type ChatReadable,
  DEFAULT_HISTORY_LIMIT,
  roomHistory,
  roomMemberList,
} from "../lib/chat/model.ts";
import type { TimeSettings } from "../components/format.ts";
import MessageListComponent from "../islands/MessageList.tsx";
import ComposerComponent from "../islands/Composer.tsx";
import SignInComponent from "../islands/SignIn.tsx";
import MembersComponent from "../islands/Members.tsx";
import ConnectionBannerComponent from "../islands/ConnectionBanner.tsx";

const MessageList = island("MessageList", MessageListComponent);
const Composer = island("Composer", ComposerComponent);
const SignIn = island("SignIn", SignInComponent);
const Members = island("Members", MembersComponent);
const ConnectionBanner = island("ConnectionBanner", ConnectionBannerComponent);

/** The chat client's settings, embedded in the page for the browser. */
export interface ChatPageConfig {
  /** The room's key (the server's own chat repo). */
  roomKey: string;
  /** The room's repo name (`chat`). */
  name: string;
  /** PBKDF2 iterations every client derives keys with. */
  keyIterations: number;
  /** Messages shown at most. */
  historyLimit: number;
  /** Presence heartbeat interval, ms. */
  heartbeatMs: number;
  /** Silence after which a participant counts as gone, ms. */
  presenceTimeoutMs: number;
}

/** What the page is rendered from. */
export interface ChatPageData {
  /** The settings the browser client needs. */
  config: ChatPageConfig;
  /** The room repo (`{ members }`), if open. */
  room: ChatReadable | undefined;
  /** Finds a member's repo, if the server holds it. */
  repoOf: (key: string) => ChatReadable | undefined;
  /** How to show times (from the browser's cookie; UTC by default). */
  time?: TimeSettings;
  /** The islands script URL, or `undefined` to render without it. */
  script?: string;
  /** Module URLs to preload (chunks of the islands bundle). */
  preload?: string[];
  /** The stylesheet URL. */
  stylesheet?: string;
}

// Runs before first paint: marks that JavaScript runs, hides the sign-in form
// while a remembered key loads, and tells the server the browser's time zone
// so the next server render shows local times.
const HEAD_SCRIPT =
  `(function(){var d=document.documentElement;d.classList.add("js");` +
  `try{if(localStorage.getItem("streamo-remembered"))d.classList.add("remembered")}catch(e){}` +
  `try{var o=Intl.DateTimeFormat().resolvedOptions();document.cookie="streamo_tz="+` +
  `encodeURIComponent(o.timeZone+"|"+o.locale)+";path=/;max-age=31536000;samesite=lax"}catch(e){}})()`;

// Runs right after the list is parsed: start at the newest message.
const SCROLL_SCRIPT =
  `(function(){var e=document.getElementById("scroller");if(e)e.scrollTop=e.scrollHeight})()`;

function escapeText(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the whole chat page as HTML. */
export function renderChatPage(data: ChatPageData): string {
  const { config } = data;
  const limit = config.historyLimit || DEFAULT_HISTORY_LIMIT;
  const lines = roomHistory(data.room, data.repoOf, limit);
  const members = roomMemberList(data.room, data.repoOf);
  const collector = new IslandCollector();
  const body = renderToString(
    <IslandRoot collector={collector}>
      <div class="app">
        <header class="top">
          <h1>
            streamo <span class="room">#{config.name}</span>
          </h1>
          <p class="room-key" title={config.roomKey}>
            room <code>{config.roomKey.slice(0, 10)}…</code>
          </p>
        </header>
        <ConnectionBanner />
        <div class="layout">
          <main class="chat">
            <MessageList lines={lines} limit={limit} time={data.time} />
            <script dangerouslySetInnerHTML={{ __html: SCROLL_SCRIPT }} />
            <div class="dock">
              <SignIn iterations={config.keyIterations} />
              <Composer />
            </div>
          </main>
          <aside>
            <Members members={members} />
          </aside>
        </div>
        <noscript>
          <p class="noscript">
            You are reading the history without JavaScript. Signing in and
            writing need it: your key is derived in your browser.
          </p>
        </noscript>
      </div>
    </IslandRoot>,
  );
  const title = `#${config.name} · streamo`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${escapeText(title)}</title>
<script>${HEAD_SCRIPT}</script>
${
    data.stylesheet
      ? `<link rel="stylesheet" href="${escapeText(data.stylesheet)}">`
      : ""
  }
${
    [...(data.script ? [data.script] : []), ...(data.preload ?? [])].map((
      href,
    ) => `<link rel="modulepreload" href="${escapeText(href)}">`).join("\n")
  }
</head>
<body>
${body}
<script type="application/json" id="__streamo_chat">${
    scriptJson(config)
  }</script>
${islandPropsScript(collector)}
${
    data.script
      ? `<script type="module" src="${escapeText(data.script)}"></script>`
      : ""
  }
</body>
</html>
`;
}
