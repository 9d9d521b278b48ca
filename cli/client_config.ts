/**
 * Settings of the programs that join a room as a participant (the terminal
 * chat and the bot): flags, then `STREAMO_*` variables, then the env file.
 *
 * @module
 */

import { rethrowFlagError } from "./config.ts";
import { parseOrigin } from "./origin.ts";
import { type Env, type ReadFile, readSettings } from "./settings.ts";

/** The server joined when none is given. */
export const DEFAULT_SERVER = "localhost:8000";

/** A participant's settings. */
export interface ClientConfig {
  /** Username, unless it must be asked for. */
  username: string | undefined;
  /** Password, unless it must be asked for. */
  password: string | undefined;
  /** The server's WebSocket URL. */
  server: URL;
  /** `--help` was given. */
  help: boolean;
  /** `--version` was given. */
  version: boolean;
}

/** The options both programs take, for their `--help`. */
export const CLIENT_OPTIONS =
  `  --username NAME         your username (STREAMO_USERNAME; asked for on a terminal)
  --password TEXT         your password (STREAMO_PASSWORD; asked for, hidden, on
                          a terminal; required when stdin is not one)
  --server HOST:PORT      the room's server, or its http:// or ws:// URL
                          (STREAMO_SERVER, default ${DEFAULT_SERVER})
  --env-file[=PATH]       read variables from PATH (default ".env") first
  --help                  show this text
  --version               show the version`;

/**
 * Resolves a participant's settings. Throws an `Error` naming the flag or
 * variable that is wrong.
 */
export async function resolveClientConfig(
  args: string[],
  env: Env,
  readFile: ReadFile = Deno.readTextFile,
): Promise<ClientConfig> {
  const { values, get } = await readSettings(args, env, readFile, {
    options: {
      username: { type: "string" },
      password: { type: "string" },
      server: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
  }).catch(rethrowFlagError);
  return {
    username: values.username ?? get("STREAMO_USERNAME") ?? undefined,
    password: values.password ?? get("STREAMO_PASSWORD") ?? undefined,
    server: parseOrigin(
      values.server ?? get("STREAMO_SERVER") ?? DEFAULT_SERVER,
      "--server",
    ),
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
