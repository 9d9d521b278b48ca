/**
 * An example bot: `deno task bot -- --username timebot --server
 * localhost:8000`. It joins a room with its own identity and answers
 * `/time` (its own clock, ISO 8601 — not the server's) and `/members` (the
 * members' names), each question exactly once (see `lib/bot`).
 *
 * The reply function is pluggable. To answer with an LLM, pass your own to
 * {@linkcode runBot}:
 *
 * ```ts ignore
 * import { runBot } from "./cli/bot.ts";
 *
 * await runBot(Deno.args, {
 *   reply: async (message, context) => {
 *     if (!message.text.startsWith("@ai ")) return undefined; // stay silent
 *     const response = await fetch("https://llm.example/v1/chat/completions", {
 *       method: "POST",
 *       headers: {
 *         "content-type": "application/json",
 *         authorization: `Bearer ${Deno.env.get("LLM_API_KEY")}`,
 *       },
 *       body: JSON.stringify({
 *         model: "some-model",
 *         messages: [
 *           { role: "system", content: `You chat with ${context.members().map((m) => m.name).join(", ")}.` },
 *           { role: "user", content: `${message.name}: ${message.text.slice(4)}` },
 *         ],
 *       }),
 *     });
 *     const body = await response.json();
 *     return body.choices?.[0]?.message?.content; // undefined: no answer
 *   },
 * });
 * ```
 *
 * A reply may take as long as it needs: answers are queued and committed
 * one at a time, each its own signed commit, and a bot never answers an
 * answer to its own message (two bots cannot loop).
 *
 * @module
 */

import { Bot, type BotReply } from "../lib/bot/bot.ts";
import { CLIENT_OPTIONS } from "./client_config.ts";
import { closeApp, joinFromArgs, sendAll } from "./join.ts";
import { bounded, onShutdownSignal, runProcess } from "./shutdown.ts";

/** The usage text for `deno task bot -- --help`. */
export const BOT_USAGE = `Usage: deno task bot -- --username NAME [options]

Runs an example bot in the chat room of a streamo server. It answers
  /time      with its own clock's time (ISO 8601, UTC)
  /members   with the names of the room's members
each question once, until stopped with Ctrl-C or SIGTERM.

Options (environment variable in brackets):
${CLIENT_OPTIONS}`;

/**
 * The example bot's reply: `/time` → the ISO time of `now()`, `/members` →
 * the members' names; anything else → no answer.
 */
export function commandReply(now: () => number = Date.now): BotReply {
  return (message, context) => {
    const command = message.text.trim().split(/\s+/)[0].toLowerCase();
    if (command === "/time") return new Date(now()).toISOString();
    if (command === "/members") {
      const names = context.members().map((m) => m.name);
      return `members (${names.length}): ${names.join(", ")}`;
    }
    return undefined;
  };
}

/** Options for {@linkcode runBot}. */
export interface RunBotOptions {
  /** Decides each answer (default {@linkcode commandReply}). */
  reply?: BotReply;
}

/**
 * Runs a bot with `args` (the terminal chat's flags) until SIGINT/SIGTERM.
 * Resolves with an exit code when done (`--help`, `--version`), or with -1
 * once the bot runs. Throws an `Error` saying why it cannot join.
 */
export async function runBot(
  args: string[],
  options: RunBotOptions = {},
): Promise<number> {
  const started = await joinFromArgs(args, "streamo bot", BOT_USAGE);
  if (typeof started === "number") return started;
  const { config, username, joined, status } = started;
  const bot = new Bot({
    registry: joined.app.registry,
    roomKey: joined.info.primaryKeyHex,
    repo: joined.repo,
    reply: options.reply ?? commandReply(),
    onError: (error, message) =>
      status(
        `Cannot answer ${message.name}'s "${message.text.slice(0, 40)}": ${
          error instanceof Error ? error.message : error
        }`,
      ),
  });
  await bot.start();
  onShutdownSignal(async (signal) => {
    status(`${signal}: the bot stops after its queued answers…`);
    await bounded(bot.stop(), 10_000, "Answering queued questions", status);
    if (bot.answered > 0) await sendAll(joined, config.server, status);
    await closeApp(joined.app);
  });
  console.log(
    `${username} is answering /time and /members in #${joined.info.name} (${config.server.href}); Ctrl-C stops it.`,
  );
  return -1;
}

if (import.meta.main) await runProcess(() => runBot(Deno.args));
