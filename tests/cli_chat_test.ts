// The terminal chat (`cli/chat.ts`) as subprocesses over pipes, with a
// library client (`ChatApp`) in process, against a real node on 127.0.0.1.

import assert from "node:assert/strict";
import {
  type Program,
  roomClient,
  spawn,
  startRoomNode,
  until,
} from "./support/cli.ts";

const line = (name: string, text: string) =>
  new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] ${name}: ${text}$`);

Deno.test("terminal chats and a library client talk in all directions; a late joiner prints the history; EOF and SIGINT exit cleanly", async () => {
  const node = await startRoomNode();
  const server = new URL(node.web!.url).host;
  const programs: Program[] = [];
  const chat = (username: string) => {
    const program = spawn(username, "cli/chat.ts", [
      "--username",
      username,
      "--password",
      `${username}-pw`,
      "--server",
      server,
    ]);
    programs.push(program);
    return program;
  };
  const carol = roomClient(node);
  const carolSees = (name: string, text: string) =>
    until(
      () => carol.history().some((l) => l.name === name && l.text === text),
      `carol sees ${name}'s "${text}"`,
    );
  try {
    const alice = chat("alice");
    const bob = chat("bob");
    await Promise.all([
      alice.stderr.waitFor("Joined #chat as alice", "alice joins"),
      bob.stderr.waitFor("Joined #chat as bob", "bob joins"),
      carol.start().then(() => carol.signIn("carol", "carol-pw", false)),
    ]);

    await alice.write("hello from alice\n");
    await bob.stdout.waitFor(
      line("alice", "hello from alice"),
      "bob sees alice",
    );
    await carolSees("alice", "hello from alice");

    await bob.write("hello from bob\n");
    await alice.stdout.waitFor(line("bob", "hello from bob"), "alice sees bob");
    await carolSees("bob", "hello from bob");

    carol.send("hello from carol");
    await alice.stdout.waitFor(
      line("carol", "hello from carol"),
      "alice sees carol",
    );
    await bob.stdout.waitFor(
      line("carol", "hello from carol"),
      "bob sees carol",
    );

    // Dave joins later and gets the history first.
    const dave = chat("dave");
    await dave.stderr.waitFor("Joined #chat as dave", "dave joins");
    const history = dave.stdout.lines.filter((l) => l.startsWith("["));
    assert.equal(history.length, 3, dave.output());
    assert.match(history[0], line("alice", "hello from alice"));
    assert.match(history[1], line("bob", "hello from bob"));
    assert.match(history[2], line("carol", "hello from carol"));
    await alice.stdout.waitFor(
      "* dave joined the room",
      "alice sees dave join",
    );

    // End of input: alice's last line is sent before she exits.
    await alice.write("bye from alice\n");
    await alice.closeStdin();
    assert.equal((await alice.exit()).code, 0, alice.output());
    await bob.stdout.waitFor(
      line("alice", "bye from alice"),
      "bob gets alice's last line",
    );
    await dave.stdout.waitFor(line("alice", "bye from alice"), "dave gets it");
    await carolSees("alice", "bye from alice");
    await bob.stdout.waitFor("* alice left", "bob sees alice leave");

    bob.signal("SIGINT");
    assert.equal((await bob.exit()).code, 0, bob.output());
    await dave.stdout.waitFor("* bob left", "dave sees bob leave");
    await dave.closeStdin();
    assert.equal((await dave.exit()).code, 0, dave.output());
  } finally {
    for (const program of programs) await program.dispose();
    await carol.close();
    await node.close();
  }
});
