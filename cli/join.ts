/**
 * Joining a chat room from the command line, as the browser does: fetch
 * `/api/info`, derive the key (with a progress line), run a `ChatApp`
 * (registry in memory, `registrySync` to the server), and wait for the
 * history. Shared by the terminal chat and the bot.
 *
 * @module
 */

import { effect } from "@preact/signals-core";
import { ChatApp } from "../lib/chat/app.ts";
import { roomMembers } from "../lib/chat/model.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import type { ServerInfo } from "../lib/server/app.ts";
import type { Repo } from "../lib/store/repo.ts";
import { registrySync } from "../lib/sync/client.ts";
import { useFastestBackend } from "../lib/identity/mod.ts";
import { type ClientConfig, resolveClientConfig } from "./client_config.ts";
import { httpUrl } from "./origin.ts";
import { resolveCredentials } from "./prompt.ts";
import { bounded } from "./shutdown.ts";
import { answerHelpOrVersion } from "./version.ts";

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Fetches `/api/info` from the server at WebSocket URL `server`. Throws an
 * `Error` saying whether the server cannot be reached or is not a streamo
 * server.
 */
export async function fetchRoomInfo(server: URL): Promise<ServerInfo> {
  const url = new URL("/api/info", httpUrl(server));
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`Cannot reach the server at ${url}: ${describe(error)}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const info = body as Partial<ServerInfo> | undefined;
  if (
    !response.ok || !info || typeof info.primaryKeyHex !== "string" ||
    typeof info.keyIterations !== "number"
  ) {
    throw new Error(
      `Cannot join: ${url} answered ${response.status} ${response.statusText} without a room (is it a streamo server?)`,
    );
  }
  return {
    primaryKeyHex: info.primaryKeyHex,
    name: typeof info.name === "string" && info.name ? info.name : "chat",
    keyIterations: info.keyIterations,
  };
}

/** Options for {@linkcode joinRoom}. */
export interface JoinOptions {
  /** The server's WebSocket URL. */
  server: URL;
  /** Your username. */
  username: string;
  /** Your password. */
  password: string;
  /** Where progress lines go (default: stderr). */
  status?: (line: string) => void;
  /** Whether to animate the progress on one terminal line (default: stderr is a terminal). */
  animate?: boolean;
  /** Longest wait for the history, ms (default 15,000). */
  historyTimeoutMs?: number;
}

/** A joined room. */
export interface JoinedRoom {
  /** The chat client. */
  app: ChatApp;
  /** The room's settings. */
  info: ServerInfo;
  /** Your repo key. */
  key: string;
  /** Your repo (a profile, signed by you). */
  repo: Repo;
}

const encoder = new TextEncoder();

/**
 * Joins the room at `server`: derives the key (reporting progress), signs
 * in, and resolves once the room, its members' repos and your profile have
 * arrived (or `historyTimeoutMs` passed, with a note). Throws an `Error`
 * saying why it cannot join.
 */
export async function joinRoom(options: JoinOptions): Promise<JoinedRoom> {
  const status = options.status ?? ((line) => console.error(line));
  const info = await fetchRoomInfo(options.server);
  const app = new ChatApp({
    config: {
      roomKey: info.primaryKeyHex,
      name: info.name,
      keyIterations: info.keyIterations,
    },
    registry: new RepoRegistry(),
    sync: registrySync,
    url: options.server,
  });
  try {
    await app.start();
    await signIn(app, options, status);
    const me = app.me.peek()!;
    const session = app.session!;
    const waitMs = options.historyTimeoutMs ?? 15_000;
    const history = (async () => {
      await session.synced(info.primaryKeyHex);
      const members = roomMembers(app.registry.get(info.primaryKeyHex));
      await Promise.all(members.map((key) => session.synced(key)));
      await profileReady(app, me.key);
    })();
    history.catch(() => {});
    const loaded = await bounded(
      history.then(() => true),
      waitMs,
      "Loading the history",
      status,
    );
    if (!loaded) status("Going on with the history received so far.");
    const repo = app.registry.get(me.key)!;
    return { app, info, key: me.key, repo };
  } catch (error) {
    await closeApp(app);
    throw error;
  }
}

async function signIn(
  app: ChatApp,
  options: JoinOptions,
  status: (line: string) => void,
): Promise<void> {
  const animate = options.animate ?? Deno.stderr.isTerminal();
  const started = performance.now();
  let line = "";
  const draw = () => {
    const progress = app.deriving.peek();
    if (!progress) return;
    const elapsed = performance.now() - progress.startedAt;
    const percent = Math.min(
      99,
      Math.floor(100 * elapsed / progress.estimateMs),
    );
    line = `Deriving your key… ${percent}%`;
    Deno.stderr.writeSync(encoder.encode(`\r${line}`));
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (animate) timer = setInterval(draw, 100);
  else status("Deriving your key…");
  try {
    await app.signIn(options.username, options.password, false);
  } finally {
    clearInterval(timer);
    if (animate && line) {
      Deno.stderr.writeSync(encoder.encode(`\r${" ".repeat(line.length)}\r`));
    }
  }
  const me = app.me.peek();
  if (!me) {
    throw new Error(app.error.peek() ?? "Cannot sign in: no key was derived");
  }
  status(
    `Key ready in ${Math.round(performance.now() - started)} ms: ${me.key}`,
  );
}

/** Resolves once your repo is a profile (`messages` is an array). */
function profileReady(app: ChatApp, key: string): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const stop = effect(() => {
      app.history(); // re-runs as repos open and change
      const messages = app.registry.get(key)?.get("messages");
      if (!done && Array.isArray(messages)) {
        done = true;
        queueMicrotask(() => stop());
        resolve();
      }
    });
  });
}

/**
 * Resolves once everything you sent is in your repo, signed, and held by
 * the server (its `/streams/:key` lists as many messages), or after
 * `timeoutMs` (then says so on `status`).
 */
export async function sendAll(
  joined: JoinedRoom,
  server: URL,
  status: (line: string) => void = (line) => console.error(line),
  timeoutMs = 10_000,
): Promise<void> {
  const { app, key, repo } = joined;
  const deadline = Date.now() + timeoutMs;
  const url = new URL(`/streams/${key}`, httpUrl(server));
  const pending = () =>
    app.history().some((line) => line.key === key && line.index < 0);
  while (pending() && Date.now() < deadline) await delay(20);
  await repo.whenSigned();
  const mine = () => {
    const messages = repo.get("messages");
    return Array.isArray(messages) ? messages.length : 0;
  };
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const value = await response.json() as { messages?: unknown };
      if (
        response.ok && Array.isArray(value?.messages) &&
        value.messages.length >= mine()
      ) return;
    } catch {
      // The server may be busy or restarting: ask again.
    }
    await delay(50);
  }
  status(
    `Some of your messages may not have reached the server yet; they are signed and will be sent when you next join.`,
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Closes the client: goodbye to the room, connection closed (bounded). */
export async function closeApp(app: ChatApp, timeoutMs = 3_000): Promise<void> {
  await bounded(app.close(), timeoutMs, "Closing the connection", () => {});
}

/** A participant program (chat or bot) that has joined its room. */
export interface JoinedFromArgs {
  /** The program's settings. */
  config: ClientConfig;
  /** The username signed in with. */
  username: string;
  /** The joined room. */
  joined: JoinedRoom;
  /** Writes a progress line to stderr. */
  status: (line: string) => void;
}

/**
 * The common start of the terminal chat and the bot: resolves their flags,
 * answers `--help` (prints `usage`) and `--version` (prints `program` and
 * the version) with exit code 0, asks for missing credentials, and joins
 * the room. Throws an `Error` saying why it cannot join.
 */
export async function joinFromArgs(
  args: string[],
  program: string,
  usage: string,
): Promise<number | JoinedFromArgs> {
  const config = await resolveClientConfig(args, Deno.env);
  if (answerHelpOrVersion(config, program, usage)) return 0;
  const { username, password } = await resolveCredentials(config);
  await useFastestBackend();
  const status = (line: string) => console.error(line);
  const joined = await joinRoom({
    server: config.server,
    username,
    password,
    status,
  });
  return { config, username, joined, status };
}
