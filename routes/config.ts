/**
 * The chat server's settings from command-line flags, environment variables
 * and an optional env file (flags win over the environment, which wins over
 * the file), with safe defaults for development.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ChatServerOptions } from "./server.ts";

/** Username used when none is configured (development only). */
export const DEV_USERNAME = "streamo-dev";
/** Password used when none is configured (development only). */
export const DEV_PASSWORD = "streamo-dev-password";

/** The usage text for `--help`. */
export const USAGE = `Usage: deno task dev [-- options]

Starts one server that is the relay and the chat room.

Options (environment variable in brackets):
  --name NAME             room repo name (STREAMO_NAME, default "chat")
  --username NAME         room owner's username (STREAMO_USERNAME)
  --password TEXT         room owner's password (STREAMO_PASSWORD)
  --data-dir DIR          file store directory (STREAMO_DATA_DIR, default ".streamo")
  --port, --web PORT      HTTP port (STREAMO_WEB, default 8000; 0 = any free port)
  --host HOST             interface to listen on (STREAMO_HOST, default 127.0.0.1)
  --key-iterations N      PBKDF2 iterations for every key
                          (STREAMO_KEY_ITERATIONS, default 600000)
  --env-file[=PATH]       read variables from PATH (default ".env") first
  --help                  show this text

Without --username/--password the room uses development credentials: fine
on your machine, never for a deployment.`;

/** Settings resolved for the server, and notes for the log. */
export interface ResolvedConfig {
  /** Options for `startChatServer`. */
  options: ChatServerOptions;
  /** Whether the development credentials are in use. */
  devCredentials: boolean;
  /** Warnings to print. */
  warnings: string[];
  /** Whether `--help` was asked for. */
  help: boolean;
}

/**
 * Parses `KEY=value` lines (`#` comments, optional `export `, single or
 * double quotes). Throws a `SyntaxError` naming the line that is malformed.
 */
export function parseEnvFile(
  text: string,
  source = ".env",
): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!m) {
      throw new SyntaxError(
        `Cannot read ${source}: line ${i + 1} is not KEY=value`,
      );
    }
    let value = m[2];
    const quote = value[0];
    if (
      (quote === '"' || quote === "'") && value.endsWith(quote) &&
      value.length > 1
    ) {
      value = value.slice(1, -1);
      if (quote === '"') {
        value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"');
      }
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[m[1]] = value;
  }
  return out;
}

function integer(
  value: string | undefined,
  what: string,
  min: number,
): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(
      `Cannot start: ${what} must be an integer ≥ ${min}, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return n;
}

/**
 * Resolves the server's settings from `args` and `env` (and the env file
 * named by `--env-file`, read with `readFile`). Throws an `Error` saying
 * which setting is wrong.
 */
export async function resolveConfig(
  args: string[],
  env: { get(name: string): string | undefined },
  readFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<ResolvedConfig> {
  // A bare `--env-file` (no value, or a flag next) means ".env".
  args = args.map((arg, i) =>
    arg === "--env-file" &&
      (i + 1 >= args.length || args[i + 1].startsWith("--"))
      ? "--env-file=.env"
      : arg
  );
  const { values } = parseArgs({
    args,
    options: {
      name: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      "data-dir": { type: "string" },
      port: { type: "string" },
      web: { type: "string" },
      host: { type: "string" },
      "key-iterations": { type: "string" },
      "env-file": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  let file: Record<string, string> = {};
  const envFile = values["env-file"];
  if (envFile !== undefined) {
    let text: string;
    try {
      text = await readFile(envFile);
    } catch (error) {
      throw new Error(
        `Cannot read the env file ${envFile}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    file = parseEnvFile(text, envFile);
  }
  const get = (name: string) => env.get(name) ?? file[name];
  const username = values.username ?? get("STREAMO_USERNAME");
  const password = values.password ?? get("STREAMO_PASSWORD");
  const devCredentials = !username && !password;
  if (!devCredentials && (!username || !password)) {
    throw new Error(
      `Cannot start: set both the username and the password of the room (STREAMO_USERNAME and STREAMO_PASSWORD), or neither for development; only the ${
        username ? "username" : "password"
      } is set`,
    );
  }
  const keyIterations = integer(
    values["key-iterations"] ?? get("STREAMO_KEY_ITERATIONS"),
    "the key iterations",
    1,
  );
  const warnings: string[] = [];
  if (devCredentials) {
    warnings.push(
      `Using the DEVELOPMENT credentials (username "${DEV_USERNAME}"): anyone who knows them can write as this room. Set STREAMO_USERNAME and STREAMO_PASSWORD (or --username/--password) for anything but local development.`,
    );
  }
  if (keyIterations !== undefined && keyIterations < 600_000) {
    warnings.push(
      `Keys are derived with only ${keyIterations} PBKDF2 iterations (STREAMO_KEY_ITERATIONS); use at least 600,000 outside tests.`,
    );
  }
  const port = integer(
    values.port ?? values.web ?? get("STREAMO_WEB"),
    "the port",
    0,
  );
  const options: ChatServerOptions = {
    name: values.name ?? get("STREAMO_NAME") ?? undefined,
    username: username ?? DEV_USERNAME,
    password: password ?? DEV_PASSWORD,
    dataDir: values["data-dir"] ?? get("STREAMO_DATA_DIR") ?? ".streamo",
    port: port ?? 8000,
    hostname: values.host ?? get("STREAMO_HOST") ?? "127.0.0.1",
    keyIterations,
    heartbeatMs: integer(
      get("STREAMO_PRESENCE_HEARTBEAT_MS"),
      "STREAMO_PRESENCE_HEARTBEAT_MS",
      100,
    ),
    presenceTimeoutMs: integer(
      get("STREAMO_PRESENCE_TIMEOUT_MS"),
      "STREAMO_PRESENCE_TIMEOUT_MS",
      200,
    ),
  };
  if (options.name === "") options.name = undefined;
  return { options, devCredentials, warnings, help: values.help ?? false };
}
