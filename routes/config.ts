/**
 * The chat server's settings from command-line flags, environment variables
 * and an optional env file (flags win over the environment, which wins over
 * the file), with safe defaults for development.
 *
 * @module
 */

import {
  type Env,
  integerSetting as integer,
  parseEnvFile,
  type ReadFile,
  readSettings,
} from "../cli/settings.ts";
import { rethrowFlagError } from "../cli/config.ts";
import { DEFAULT_KEY_ITERATIONS } from "../lib/chat/identity.ts";
import type { ChatServerOptions } from "./server.ts";

export { parseEnvFile };

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
                          (STREAMO_KEY_ITERATIONS, default ${DEFAULT_KEY_ITERATIONS})
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
 * Resolves the server's settings from `args` and `env` (and the env file
 * named by `--env-file`, read with `readFile`). Throws an `Error` saying
 * which setting is wrong.
 */
export async function resolveConfig(
  args: string[],
  env: Env,
  readFile: ReadFile = Deno.readTextFile,
): Promise<ResolvedConfig> {
  const { values, get } = await readSettings(args, env, readFile, {
    options: {
      name: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      "data-dir": { type: "string" },
      port: { type: "string" },
      web: { type: "string" },
      host: { type: "string" },
      "key-iterations": { type: "string" },
      help: { type: "boolean" },
    },
  }).catch(rethrowFlagError);
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
  if (keyIterations !== undefined && keyIterations < DEFAULT_KEY_ITERATIONS) {
    warnings.push(
      `Keys are derived with only ${keyIterations} PBKDF2 iterations (STREAMO_KEY_ITERATIONS); use at least ${
        DEFAULT_KEY_ITERATIONS.toLocaleString("en-US")
      } outside tests.`,
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
