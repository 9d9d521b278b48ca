// Runs the command-line programs as subprocesses (`deno run -A cli/…`) and
// waits for lines of their output, with timeouts instead of sleeps; starts
// the node and the library client they talk to in process.

import { ChatApp } from "../../lib/chat/app.ts";
import { RepoRegistry } from "../../lib/registry/registry.ts";
import { registrySync } from "../../lib/sync/client.ts";
import { startNode, type StreamoNode } from "../../cli/node.ts";

export const ROOT = new URL("../../", import.meta.url);

const WAIT_MS = 15_000;

/**
 * The environment of a program: only what Deno needs to find its cache,
 * so no STREAMO_* variable of the test's own environment leaks in.
 */
function envOf(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** The `deno` arguments that run `script` with `args`. */
function denoRun(script: string, args: string[]): string[] {
  return ["run", "-A", "--no-prompt", script, ...args];
}

interface Waiter {
  test: (line: string) => boolean;
  resolve: (line: string) => void;
}

/** One output stream's lines, and waiters for lines to come. */
class Lines {
  readonly lines: string[] = [];
  readonly #waiters = new Set<Waiter>();
  #ended = false;
  #partial = "";
  #onEnd = new Set<() => void>();

  push(line: string): void {
    this.lines.push(line);
    for (const w of [...this.#waiters]) {
      if (w.test(line)) {
        this.#waiters.delete(w);
        w.resolve(line);
      }
    }
  }

  /** The unfinished last line (a prompt): waiters may match it too. */
  partial(text: string): void {
    this.#partial = text;
    if (!text) return;
    for (const w of [...this.#waiters]) {
      if (w.test(text)) {
        this.#waiters.delete(w);
        w.resolve(text);
      }
    }
  }

  end(): void {
    this.#ended = true;
    for (const fn of this.#onEnd) fn();
  }

  /** Resolves with the first line (seen or to come) that matches. */
  waitFor(
    pattern: RegExp | string,
    what: string,
    timeoutMs = WAIT_MS,
    from = 0,
  ): Promise<string> {
    const test = (line: string) =>
      typeof pattern === "string" ? line.includes(pattern) : pattern.test(line);
    const seen = [...this.lines.slice(from), this.#partial].find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        this.#onEnd.delete(ended);
        reject(
          new Error(
            `${what}: ${why} waiting for ${pattern}; output so far:\n${
              this.lines.join("\n")
            }`,
          ),
        );
      };
      const ended = () => fail("the stream ended");
      const waiter: Waiter = {
        test,
        resolve: (line) => {
          clearTimeout(timer);
          this.#onEnd.delete(ended);
          resolve(line);
        },
      };
      const timer = setTimeout(() => fail("timed out"), timeoutMs);
      if (this.#ended) return ended();
      this.#waiters.add(waiter);
      this.#onEnd.add(ended);
    });
  }
}

async function readLines(stream: ReadableStream<Uint8Array>, into: Lines) {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    for (const part of parts) into.push(part.replace(/\r$/, ""));
    into.partial(rest);
  }
  if (rest) into.push(rest);
  into.end();
}

/** Options for {@linkcode spawn}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Pipe stdin (default) or give none. */
  stdin?: "piped" | "null";
}

/** A running program. */
export class Program {
  readonly name: string;
  readonly stdout = new Lines();
  readonly stderr = new Lines();
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #reading: Promise<unknown>;
  #stdinClosed = false;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(
    name: string,
    command: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    this.name = name;
    this.#child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      env: envOf(options.env),
      clearEnv: true,
      stdin: options.stdin ?? "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = options.stdin === "null"
      ? undefined
      : this.#child.stdin.getWriter();
    this.#reading = Promise.all([
      readLines(this.#child.stdout, this.stdout),
      readLines(this.#child.stderr, this.stderr),
    ]);
    this.status = this.#child.status.then((status) => {
      this.#exited = true;
      return status;
    });
  }

  /** Writes `text` to stdin. */
  async write(text: string): Promise<void> {
    await this.#writer!.write(new TextEncoder().encode(text));
  }

  /** Closes stdin (end of input). */
  async closeStdin(): Promise<void> {
    if (!this.#writer || this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#writer.close().catch(() => {});
  }

  /** Sends `signal`. */
  signal(signal: Deno.Signal): void {
    if (!this.#exited) this.#child.kill(signal);
  }

  /** Waits for the exit (after which all output has been read). */
  async exit(timeoutMs = WAIT_MS): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.status,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `${this.name} did not exit within ${timeoutMs} ms; stderr:\n${
                  this.stderr.lines.join("\n")
                }`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    await this.#reading;
    return status;
  }

  /** All output so far, for failure messages. */
  output(): string {
    return `--- ${this.name} stdout\n${
      this.stdout.lines.join("\n")
    }\n--- ${this.name} stderr\n${this.stderr.lines.join("\n")}`;
  }

  /** Kills the program if it still runs and waits for everything to end. */
  async dispose(): Promise<void> {
    await this.closeStdin();
    if (!this.#exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    await this.status;
    await this.#reading;
  }
}

/** Runs `cli/<script>` with `args`. */
export function spawn(
  name: string,
  script: string,
  args: string[],
  options?: SpawnOptions,
): Program {
  return new Program(
    name,
    Deno.execPath(),
    denoRun(script, args),
    options,
  );
}

/**
 * Runs `cli/<script>` with `args` on a pseudo-terminal (util-linux
 * `script`), so stdin is a TTY; `undefined` where `script` is missing.
 */
export function spawnOnTerminal(
  name: string,
  script: string,
  args: string[],
): Program | undefined {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [Deno.execPath(), ...denoRun(script, args)].map(quote)
    .join(" ");
  try {
    return new Program(name, "script", ["-qec", command, "/dev/null"]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Runs a program to its end; resolves with its code and output. */
export async function runToEnd(
  script: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: denoRun(script, args),
    cwd: ROOT,
    env: envOf(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Resolves once `check()` resolves truthy (polled every 25 ms), or rejects after `timeoutMs`. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `Timed out waiting until ${what}${last ? `: ${last}` : ""}`,
  );
}

/** GET `url` as JSON; `undefined` unless 200. */
export async function getJson(url: string | URL): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return await response.json();
}

/** A node in memory whose room ("room", 1 PBKDF2 iteration) is on a free web port. */
export function startRoomNode(): Promise<StreamoNode> {
  return startNode({
    username: "room",
    password: "pw",
    keyIterations: 1,
    dataDir: null,
    web: 0,
  });
}

/** A library chat client (`ChatApp`, registry in memory) of `node`'s room. */
export function roomClient(node: StreamoNode): ChatApp {
  return new ChatApp({
    config: { roomKey: node.key, keyIterations: 1 },
    registry: new RepoRegistry(),
    sync: registrySync,
    url: node.web!.url.replace(/^http/, "ws"),
  });
}
