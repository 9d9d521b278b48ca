/**
 * The terminal chat: `deno task chat -- --username alice --server
 * localhost:8000`. Joins a room like the browser does, prints the history
 * and then live messages (with names and local times), who joins and who
 * leaves, and sends each line read from stdin. Works interactively and on
 * a pipe: at the end of input it sends what was read, then exits.
 *
 * @module
 */

import { effect, untracked } from "@preact/signals-core";
import process from "node:process";
import readline, { createInterface, type Interface } from "node:readline";
import { shortKey } from "../lib/chat/model.ts";
import { CLIENT_OPTIONS } from "./client_config.ts";
import { closeApp, type JoinedRoom, joinFromArgs, sendAll } from "./join.ts";
import { runProcess, SHUTDOWN_SIGNALS } from "./shutdown.ts";
import { formatEvent, formatMessage } from "./terminal.ts";

/** The usage text for `deno task chat -- --help`. */
export const CHAT_USAGE = `Usage: deno task chat -- --username NAME [options]

Joins the chat room of a streamo server from the terminal: prints the
history, then live messages; every line you type (or pipe in) is sent.

Options (environment variable in brackets):
${CLIENT_OPTIONS}

Leave with /quit, Ctrl-D (end of input) or Ctrl-C: what was typed is sent
first. On a pipe each line is a message, e.g.
  echo "hello" | deno task chat -- --username bot --password "$PW"`;

/** Where the transcript goes: stdout, keeping an interactive prompt intact. */
class Output {
  #rl: Interface | undefined;

  /** Prompts with `rl` from now on (interactive). */
  attach(rl: Interface): void {
    this.#rl = rl;
  }

  /** Prints `text` above the prompt. */
  print(text: string): void {
    const rl = this.#rl;
    if (!rl) {
      console.log(text);
      return;
    }
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
    process.stdout.write(text + "\n");
    rl.prompt(true);
  }
}

/** Prints the live transcript of `joined` to `out`; returns a stop function. */
function follow(joined: JoinedRoom, out: Output): () => void {
  const { app, key } = joined;
  const printed = new Set<string>();
  for (const line of app.history()) {
    if (line.index < 0) continue;
    printed.add(line.id);
    out.print(formatMessage(line));
  }
  const known = new Set(app.members().map((m) => m.key));
  known.add(key);
  const waiting = new Map<string, ReturnType<typeof setTimeout>>();
  let online = new Map(app.online.peek());
  const nameOf = (k: string, announced?: string) =>
    untracked(() => app.members().find((m) => m.key === k)?.name) ??
      announced ?? shortKey(k);
  const here = [...online].filter(([k]) => k !== key)
    .map(([k, entry]) => nameOf(k, entry.name));
  if (here.length) out.print(formatEvent(`here now: ${here.join(", ")}`));
  const stops = [
    effect(() => {
      for (const line of app.history()) {
        if (line.index < 0 || printed.has(line.id)) continue;
        printed.add(line.id);
        out.print(formatMessage(line));
      }
    }),
    effect(() => {
      for (const member of app.members()) {
        if (known.has(member.key)) continue;
        if (member.name !== shortKey(member.key)) {
          known.add(member.key);
          clearTimeout(waiting.get(member.key));
          waiting.delete(member.key);
          out.print(formatEvent(`${member.name} joined the room`));
        } else if (!waiting.has(member.key)) {
          // Their name is on its way; say who joined even if it never comes.
          waiting.set(
            member.key,
            setTimeout(() => {
              waiting.delete(member.key);
              if (known.has(member.key)) return;
              known.add(member.key);
              out.print(formatEvent(`${shortKey(member.key)} joined the room`));
            }, 3_000),
          );
        }
      }
    }),
    effect(() => {
      const now = app.online.value;
      for (const [k, entry] of now) {
        if (k !== key && !online.has(k)) {
          out.print(formatEvent(`${nameOf(k, entry.name)} is here`));
        }
      }
      for (const [k, entry] of online) {
        if (k !== key && !now.has(k)) {
          out.print(formatEvent(`${nameOf(k, entry.name)} left`));
        }
      }
      online = new Map(now);
    }),
  ];
  return () => {
    for (const stop of stops) stop();
    for (const timer of waiting.values()) clearTimeout(timer);
  };
}

/**
 * Runs the terminal chat with `args` until stdin ends, `/quit`, or SIGINT;
 * resolves with the exit code. Throws an `Error` saying why it cannot join.
 */
export async function runChat(args: string[]): Promise<number> {
  const started = await joinFromArgs(args, "streamo chat", CHAT_USAGE);
  if (typeof started === "number") return started;
  const { config, username, joined, status } = started;
  const interactive = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  const out = new Output();
  const stopFollowing = follow(joined, out);
  status(
    `Joined #${joined.info.name} as ${username}. Type a message and press Enter; /quit or Ctrl-D leaves.`,
  );
  const rl = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    crlfDelay: Infinity,
  });
  let quitting = false;
  const quit = () => {
    if (quitting) Deno.exit(130);
    quitting = true;
    rl.close();
  };
  rl.on("SIGINT", quit);
  for (const signal of SHUTDOWN_SIGNALS) Deno.addSignalListener(signal, quit);
  if (interactive) {
    out.attach(rl);
    rl.setPrompt("> ");
    rl.prompt();
  }
  let sent = 0;
  for await (const line of rl) {
    if (interactive) {
      // The message shows in the transcript once sent: drop the typed copy.
      readline.moveCursor(process.stdout, 0, -1);
      readline.clearLine(process.stdout, 0);
    }
    const text = line.trim();
    if (text === "/quit" || text === "/exit") break;
    if (text) {
      try {
        joined.app.send(line);
        sent++;
      } catch (error) {
        status(error instanceof Error ? error.message : String(error));
      }
    }
    if (interactive) rl.prompt();
  }
  rl.close();
  if (sent > 0) await sendAll(joined, config.server, status);
  stopFollowing();
  await closeApp(joined.app);
  return 0;
}

if (import.meta.main) await runProcess(() => runChat(Deno.args));
