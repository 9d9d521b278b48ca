// The `streamo` CLI as a subprocess against real ports and a temp data dir:
// the start-up box, the HTTP API, restarts, relay chaining with --origin,
// flushing on SIGTERM, and its errors.

import assert from "node:assert/strict";
import { bytesToHex } from "../lib/codec/hex.ts";
import { Signer } from "../lib/identity/signer.ts";
import { RepoRegistry } from "../lib/registry/registry.ts";
import type { Repo } from "../lib/store/repo.ts";
import { registrySync, type SyncSession } from "../lib/sync/client.ts";
import {
  getJson,
  type Program,
  runToEnd,
  spawn,
  spawnOnTerminal,
  until,
} from "./support/cli.ts";

const CLI = "cli/main.ts";
const CREDENTIALS = ["--username", "room", "--password", "secret"];

/** Starts the CLI and reads its box; `rows` maps each label to its value. */
async function startCli(name: string, args: string[]) {
  const program = spawn(name, CLI, [
    ...CREDENTIALS,
    "--key-iterations",
    "1",
    ...args,
  ]);
  try {
    await program.stdout.waitFor(/^└/, `${name} prints its box`);
  } catch (error) {
    await program.dispose();
    throw error;
  }
  const rows = new Map<string, string>();
  for (const line of program.stdout.lines) {
    const m = line.match(/^│ (\w+)\s+(\S.*?)\s*│$/);
    if (m) rows.set(m[1], m[2]);
  }
  return { program, rows };
}

/** A library client that writes its own repo to the node at `url`. */
class Writer {
  readonly registry = new RepoRegistry();
  session!: SyncSession;
  repo!: Repo;
  key = "";

  static async open(url: string, username: string): Promise<Writer> {
    const writer = new Writer();
    const signer = new Signer(username, "pw", 1);
    const { publicKey } = await signer.keysFor("chat");
    writer.key = bytesToHex(publicKey);
    writer.repo = await writer.registry.open(writer.key);
    await writer.repo.attachSigner(signer, "chat");
    writer.session = registrySync(writer.registry, {
      url: url.replace(/^http/, "ws"),
    });
    await writer.session.synced(writer.key);
    return writer;
  }

  async write(value: unknown): Promise<void> {
    this.repo.set(value);
    await this.repo.whenSigned();
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** Resolves once `base`'s `/streams/:key` equals `value`. */
function served(base: string, key: string, value: unknown, what: string) {
  return until(async () => {
    const got = await getJson(new URL(`/streams/${key}`, base));
    try {
      assert.deepEqual(got, value);
      return true;
    } catch {
      return false;
    }
  }, what);
}

async function stopped(program: Program): Promise<void> {
  program.signal("SIGTERM");
  const status = await program.exit();
  assert.equal(status.code, 0, program.output());
  await program.stderr.waitFor("Stopped.", "the CLI says it stopped");
}

Deno.test("streamo --web 0 prints its box and serves the API; SIGTERM flushes; a restart has the same key and data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-cli-" });
  const programs: Program[] = [];
  const writers: Writer[] = [];
  try {
    const first = await startCli("node", ["--data-dir", dir, "--web", "0"]);
    programs.push(first.program);
    const { rows } = first;
    assert.equal(rows.get("name"), "chat");
    assert.equal(rows.get("username"), "room");
    assert.match(rows.get("key")!, /^0[23][0-9a-f]{64}$/);
    const web = rows.get("web")!;
    assert.match(web, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(new URL(web).port, "0", "the box shows the bound port");
    assert.equal(rows.get("data"), dir);
    const key = rows.get("key")!;

    assert.deepEqual(await getJson(new URL("/api/info", web)), {
      primaryKeyHex: key,
      name: "chat",
      keyIterations: 1,
    });
    assert.deepEqual(await getJson(new URL(`/streams/${key}`, web)), {
      members: [],
    });
    const page = await fetch(web);
    assert.match(await page.text(), /sync WebSocket endpoint/);

    const carol = await Writer.open(web, "carol");
    writers.push(carol);
    await carol.write({ name: "carol", messages: [{ text: "one", at: 1 }] });
    await served(web, carol.key, {
      name: "carol",
      messages: [{ text: "one", at: 1 }],
    }, "the node has carol's repo");
    // Written last, then SIGTERM at once: the flush on shutdown keeps it.
    const last = {
      name: "carol",
      messages: [{ text: "one", at: 1 }, { text: "two", at: 2 }],
    };
    await carol.write(last);
    await served(web, carol.key, last, "the node has carol's second write");
    await carol.close();
    await stopped(first.program);

    const second = await startCli("node again", [
      "--data-dir",
      dir,
      "--web",
      "0",
    ]);
    programs.push(second.program);
    assert.equal(second.rows.get("key"), key, "same credentials, same key");
    const web2 = second.rows.get("web")!;
    assert.deepEqual(
      await getJson(new URL(`/streams/${carol.key}`, web2)),
      last,
    );
    assert.deepEqual(await getJson(new URL(`/streams/${key}`, web2)), {
      members: [],
    });
    await stopped(second.program);
  } finally {
    for (const writer of writers) await writer.close();
    for (const program of programs) await program.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--origin chains two nodes: repos written on either side reach the other", async () => {
  const dirA = await Deno.makeTempDir({ prefix: "streamo-a-" });
  const dirB = await Deno.makeTempDir({ prefix: "streamo-b-" });
  const programs: Program[] = [];
  const writers: Writer[] = [];
  try {
    const a = await startCli("node A", [
      "--data-dir",
      dirA,
      "--web",
      "0",
      "--outlet",
      "0",
    ]);
    programs.push(a.program);
    const outlet = a.rows.get("outlet")!;
    assert.match(outlet, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
    const outletHttp = outlet.replace(/^ws/, "http");
    const noPage = await fetch(outletHttp);
    await noPage.body?.cancel();
    assert.equal(noPage.status, 404, "the outlet serves no chat page");
    const b = await startCli("node B", [
      "--data-dir",
      dirB,
      "--web",
      "0",
      "--name",
      "other",
      "--origin",
      new URL(outlet).host,
    ]);
    programs.push(b.program);
    assert.equal(b.rows.get("origin"), outlet);
    const webA = a.rows.get("web")!;
    const webB = b.rows.get("web")!;

    const x = await Writer.open(webA, "xavier");
    writers.push(x);
    const y = await Writer.open(webB, "yvonne");
    writers.push(y);
    await x.write({ from: "A" });
    await y.write({ from: "B" });
    await served(webB, x.key, { from: "A" }, "B has the repo written on A");
    await served(webA, y.key, { from: "B" }, "A has the repo written on B");
    await served(outletHttp, y.key, { from: "B" }, "A's outlet serves it too");
    // Both rooms travel too: B's own repo reaches A.
    await served(webA, b.rows.get("key")!, { members: [] }, "A has B's room");
    // Later writes follow live.
    await y.write({ from: "B", again: true });
    await served(
      webA,
      y.key,
      { from: "B", again: true },
      "A has B's next write",
    );
    for (const writer of writers) await writer.close();
    writers.length = 0;
    await stopped(b.program);
    await stopped(a.program);
  } finally {
    for (const writer of writers) await writer.close();
    for (const program of programs) await program.dispose();
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("bad settings exit with code 1 and say what is wrong", async () => {
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir({ prefix: "streamo-bad-" });
  try {
    const cases: [string[], RegExp][] = [
      [
        [...CREDENTIALS, "--data-dir", dir, "--web", String(busy.addr.port)],
        new RegExp(`port ${busy.addr.port} \\(--web\\) is already in use`),
      ],
      [
        [...CREDENTIALS, "--origin", "nowhere"],
        /--origin "nowhere": it is not host:port/,
      ],
      [[...CREDENTIALS, "--origin", "ftp://x:1"], /ftp: is not ws:/],
      [
        [...CREDENTIALS, "--key-iterations", "0"],
        /--key-iterations .* must be an integer from 1/,
      ],
      [
        [...CREDENTIALS, "--key-iterations", "many"],
        /--key-iterations .*"many"/,
      ],
      [
        [...CREDENTIALS, "--web", "70000"],
        /the --web port must be an integer from 0 to 65535/,
      ],
      [[...CREDENTIALS, "--frobnicate"], /Unknown option '--frobnicate'/],
      // stdin is not a terminal: no prompt, a clear error instead.
      [
        ["--username", "room", "--data-dir", dir],
        /Cannot ask for the password: stdin is not a terminal\. Give it with --password or STREAMO_PASSWORD/,
      ],
      [
        ["--password", "x", "--data-dir", dir],
        /Cannot ask for the username: stdin is not a terminal/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([args]) => runToEnd(CLI, args)),
    );
    results.forEach((result, i) => {
      const [args, pattern] = cases[i];
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help and --version answer without starting", async () => {
  const [help, version] = await Promise.all([
    runToEnd(CLI, ["--help"]),
    runToEnd(CLI, ["--version"]),
  ]);
  assert.equal(help.code, 0);
  for (
    const flag of [
      "--name",
      "--username",
      "--password",
      "--data-dir",
      "--web",
      "--outlet",
      "--origin",
      "--key-iterations",
      "--env-file",
      "--verbose",
      "--version",
    ]
  ) {
    assert.ok(help.stdout.includes(flag), `--help lists ${flag}`);
  }
  assert.match(help.stdout, /chat page/);
  const meta = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `streamo ${meta.version}`);
});

Deno.test("credentials come from the environment and the env file; with nothing to serve the node shows its key and stops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-env-" });
  await Deno.writeTextFile(
    `${dir}/settings.env`,
    "STREAMO_USERNAME=from-file\nSTREAMO_KEY_ITERATIONS=1\nSTREAMO_NAME=notes\n",
  );
  try {
    const result = await runToEnd(CLI, [
      "--env-file",
      `${dir}/settings.env`,
      "--data-dir",
      dir,
    ], { env: { STREAMO_PASSWORD: "from-env" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /│ username\s+from-file/);
    assert.match(result.stdout, /│ name\s+notes/);
    const expected = new Signer("from-file", "from-env", 1);
    const { publicKey } = await expected.keysFor("notes");
    assert.ok(
      result.stdout.includes(bytesToHex(publicKey)),
      "the key is derived from them",
    );
    assert.match(result.stderr, /nothing to serve/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on a terminal the password is asked for without echo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "streamo-tty-" });
  const program = spawnOnTerminal("node on a terminal", CLI, [
    "--username",
    "tty-user",
    "--key-iterations",
    "1",
    "--data-dir",
    dir,
  ]);
  try {
    if (!program) {
      console.warn("util-linux `script` is missing: not checked");
      return;
    }
    await program.stdout.waitFor("Password for tty-user:", "the prompt");
    // Typed with a backspace: "sec", erase "c", "cret" → "secret".
    await program.write("sec\x7fcret\r");
    assert.equal((await program.exit()).code, 0, program.output());
    const output = program.stdout.lines.join("\n");
    assert.ok(
      !output.includes("sec"),
      `the password is not echoed:\n${output}`,
    );
    const { publicKey } = await new Signer("tty-user", "secret", 1).keysFor(
      "chat",
    );
    assert.ok(output.includes(bytesToHex(publicKey)), output);
  } finally {
    await program?.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
