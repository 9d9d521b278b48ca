// The example bot (`cli/bot.ts`) as a subprocess against a real node on
// 127.0.0.1, asked by a library client (`ChatApp`) in process.

import assert from "node:assert/strict";
import type { BotContext, BotMessage } from "../lib/bot/bot.ts";
import { commandReply } from "../cli/bot.ts";
import { roomClient, spawn, startRoomNode, until } from "./support/cli.ts";

Deno.test("deno task bot answers /time and /members exactly once per question", async () => {
  const node = await startRoomNode();
  const bot = spawn("timebot", "cli/bot.ts", [
    "--username",
    "timebot",
    "--password",
    "bot-pw",
    "--server",
    node.web!.url,
  ]);
  const carol = roomClient(node);
  const answers = () => carol.history().filter((l) => l.name === "timebot");
  try {
    await bot.stdout.waitFor("timebot is answering", "the bot runs");
    await carol.start();
    await carol.signIn("carol", "carol-pw", false);
    const before = Date.now();
    carol.send("/time");
    carol.send("/members");
    carol.send("hello, no command here");
    await until(() => answers().length >= 2, "the bot answers twice");
    const [time, members] = answers().map((l) => l.text);
    const at = Date.parse(time);
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(at >= before - 1_000 && at <= Date.now() + 1_000, time);
    assert.match(members, /^members \(2\): /);
    assert.deepEqual(
      members.replace(/^members \(2\): /, "").split(", ").sort(),
      ["carol", "timebot"],
    );
    // One more question: its answer comes after any duplicate would have.
    carol.send("/time please");
    await until(() => answers().length >= 3, "the bot answers the third");
    const botKey = answers()[0].key;
    await until(
      () =>
        (node.registry.get(botKey)?.get("messages") as unknown[])?.length === 3,
      "the server holds the three answers",
    );
    const stored = node.registry.get(botKey)!.get("messages") as {
      re: { key: string; at: number; index: number };
    }[];
    assert.deepEqual(stored.map((m) => m.re.index), [0, 1, 3]);
    const questions = new Set(
      stored.map((m) => `${m.re.key}:${m.re.at}:${m.re.index}`),
    );
    assert.equal(questions.size, 3, "each answer names a different question");
    assert.equal(answers().length, 3, "no answer twice, none to chatter");
    bot.signal("SIGTERM");
    assert.equal((await bot.exit()).code, 0, bot.output());
  } finally {
    await bot.dispose();
    await carol.close();
    await node.close();
  }
});

Deno.test("commandReply answers /time with the bot's clock and /members with names, and nothing else", () => {
  const reply = commandReply(() => Date.UTC(2030, 0, 2, 3, 4, 5));
  const context: BotContext = {
    key: "02" + "00".repeat(32),
    members: () => [{ key: "a", name: "alice" }, { key: "b", name: "bot" }],
  };
  const message = (text: string): BotMessage => ({
    key: "02" + "11".repeat(32),
    name: "alice",
    index: 0,
    text,
    at: 0,
  });
  assert.equal(reply(message("/time"), context), "2030-01-02T03:04:05.000Z");
  assert.equal(
    reply(message("  /TIME now"), context),
    "2030-01-02T03:04:05.000Z",
  );
  assert.equal(reply(message("/members"), context), "members (2): alice, bot");
  assert.equal(reply(message("what /time is it"), context), undefined);
  assert.equal(reply(message("hello"), context), undefined);
});
