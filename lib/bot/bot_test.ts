import assert from "node:assert/strict";
import { bytesToHex } from "../codec/hex.ts";
import { Signer } from "../identity/signer.ts";
import { RepoRegistry } from "../registry/registry.ts";
import { Repo } from "../store/repo.ts";
import { Bot, type BotReply } from "./bot.ts";

interface Room {
  registry: RepoRegistry;
  roomKey: string;
  join(username: string): Promise<Repo>;
  /** A bot in this room writing to `repo`, answering everything since 0. */
  bot(repo: Repo, reply: BotReply): Bot;
}

/** A registry holding a room and its members' repos, all in one process. */
async function room(): Promise<Room> {
  const signers = new Map<string, Signer>();
  const registry = new RepoRegistry({
    create: (key) => new Repo({ key }),
  });
  const join = async (username: string): Promise<Repo> => {
    const signer = signers.get(username) ?? new Signer(username, "pw", 1);
    signers.set(username, signer);
    const { publicKey } = await signer.keysFor("chat");
    const key = bytesToHex(publicKey);
    const repo = await registry.open(key);
    await repo.attachSigner(signer, "chat");
    if (repo.get() === undefined) repo.set({ name: username, messages: [] });
    await repo.whenSigned();
    const roomRepo = registry.get(roomKey);
    if (roomRepo && username !== "room") {
      roomRepo.push("members", key);
      await roomRepo.whenSigned();
    }
    return repo;
  };
  let roomKey = "";
  const roomRepo = await join("room");
  roomKey = roomRepo.key!;
  roomRepo.set({ members: [] });
  await roomRepo.whenSigned();
  const bot = (repo: Repo, reply: BotReply) =>
    new Bot({ registry, roomKey, repo, reply, since: 0 });
  return { registry, roomKey, join, bot };
}

async function settle(bots: Bot[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    for (const bot of bots) await bot.idle();
  }
}

const answers = (repo: Repo) =>
  ((repo.get("messages") ?? []) as { text: string; re?: unknown }[]).filter((
    m,
  ) => m.re);

Deno.test("Bot answers each question once, never its own messages", async () => {
  const r = await room();
  const human = await r.join("human");
  const botRepo = await r.join("timebot");
  const reply: BotReply = (m) => m.text === "/time" ? "it is noon" : undefined;
  const bot = r.bot(botRepo, reply);
  await bot.start();
  human.push("messages", { text: "/time", at: Date.now() });
  human.push("messages", { text: "hello", at: Date.now() + 1 });
  await settle([bot]);
  assert.equal(answers(botRepo).length, 1);
  assert.deepEqual(answers(botRepo)[0].re, {
    key: human.key,
    at: human.get("messages", 0, "at"),
    index: 0,
  });
  // A restarted bot does not answer again.
  await bot.stop();
  const again = r.bot(botRepo, reply);
  await again.start();
  await settle([again]);
  assert.equal(answers(botRepo).length, 1);
  await again.stop();
});

Deno.test("Two bots answering each other's keywords stop after one round", async () => {
  const r = await room();
  const human = await r.join("human");
  const a = await r.join("bot-a");
  const b = await r.join("bot-b");
  const botA = r.bot(
    a,
    (m) => m.text.includes("ping") ? "pong from a" : undefined,
  );
  const botB = r.bot(
    b,
    (m) => m.text.includes("pong") ? "ping from b" : undefined,
  );
  await botA.start();
  await botB.start();
  human.push("messages", { text: "ping", at: Date.now() });
  await settle([botA, botB]);
  assert.equal(answers(a).length, 1, "a answers the human");
  assert.equal(answers(b).length, 1, "b answers a once");
  assert.equal(
    (a.get("messages") as unknown[]).length,
    1,
    "a ignores b's answer to a",
  );
  await botA.stop();
  await botB.stop();
});

Deno.test("A burst of 20 questions yields 20 answers, each its own commit, no fork", async () => {
  const r = await room();
  const human = await r.join("human");
  const botRepo = await r.join("echo");
  const bot = r.bot(botRepo, async (m) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return "echo " + m.text;
  });
  await bot.start();
  const commitsBefore = botRepo.history().length;
  for (let i = 0; i < 20; i++) {
    human.push("messages", { text: `q${i}`, at: 1000 + i });
  }
  await settle([bot]);
  await bot.idle();
  const texts = answers(botRepo).map((m) => m.text);
  assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => `echo q${i}`));
  assert.equal(botRepo.history().length - commitsBefore, 20);
  assert.equal(botRepo.signedLength, botRepo.byteLength);
  await bot.stop();
});

Deno.test("Questions sent in the same millisecond are each answered once", async () => {
  const r = await room();
  const human = await r.join("human");
  const botRepo = await r.join("timebot");
  const bot = r.bot(
    botRepo,
    (m) => m.text.startsWith("/") ? `re ${m.text}` : undefined,
  );
  await bot.start();
  for (const text of ["/time", "/members", "chatter", "/time"]) {
    human.push("messages", { text, at: 5000 });
  }
  await settle([bot]);
  assert.deepEqual(answers(botRepo).map((m) => m.text), [
    "re /time",
    "re /members",
    "re /time",
  ]);
  // Restarted, it knows all three were answered.
  await bot.stop();
  const again = r.bot(
    botRepo,
    (m) => m.text.startsWith("/") ? `re ${m.text}` : undefined,
  );
  await again.start();
  await settle([again]);
  assert.equal(answers(botRepo).length, 3);
  await again.stop();
});

Deno.test("A restarted bot also recognizes answers stored without an index", async () => {
  const r = await room();
  const human = await r.join("human");
  const botRepo = await r.join("timebot");
  human.push("messages", { text: "/time", at: 7000 });
  await human.whenSigned();
  botRepo.push("messages", {
    text: "earlier answer",
    at: 7001,
    re: { key: human.key, at: 7000 },
  });
  await botRepo.whenSigned();
  const bot = r.bot(botRepo, () => "again");
  await bot.start();
  await settle([bot]);
  assert.equal(answers(botRepo).length, 1);
  await bot.stop();
});
