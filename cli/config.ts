/**
 * The `streamo` node's settings: flags, then `STREAMO_*` environment
 * variables, then the env file (`--env-file`).
 *
 * @module
 */

import { DEFAULT_KEY_ITERATIONS } from "../lib/chat/identity.ts";
import { parseOrigin } from "./origin.ts";
import {
  type Env,
  integerSetting,
  isOn,
  type ReadFile,
  readSettings,
} from "./settings.ts";

/** Port `--web` takes when given without one. */
export const DEFAULT_WEB_PORT = 8000;
/** Port `--outlet` takes when given without one. */
export const DEFAULT_OUTLET_PORT = 8001;

/** The usage text for `streamo --help`. */
export const NODE_USAGE = `Usage: streamo [options]
       deno task serve -- [options]
       deno run -A jsr:@streamo/streamo/cli [options]

Runs a streamo node: your repo and everything it syncs, kept in a file store,
served to browsers and peers, and chained to upstream nodes.

Options (environment variable in brackets):
  --name NAME             your repo's name; with --web it is the chat room
                          (STREAMO_NAME, default "chat")
  --username NAME         your username (STREAMO_USERNAME; asked for on a terminal)
  --password TEXT         your password (STREAMO_PASSWORD; asked for, hidden,
                          on a terminal; required when stdin is not one)
  --data-dir DIR          file store directory (STREAMO_DATA_DIR, default ".streamo")
  --web [PORT]            serve HTTP + WebSocket: the sync endpoint, /api/info,
                          /streams/:key and the chat page (STREAMO_WEB,
                          default port ${DEFAULT_WEB_PORT}; 0 = any free port)
  --outlet [PORT]         accept peers: the sync WebSocket endpoint and the
                          HTTP API, no chat page (STREAMO_OUTLET, default
                          port ${DEFAULT_OUTLET_PORT}; 0 = any free port)
  --host HOST             interface --web and --outlet listen on
                          (STREAMO_HOST, default 127.0.0.1)
  --origin HOST:PORT      sync every repo with an upstream node (relay
                          chaining); repeatable; also ws:// or http:// URLs
                          (STREAMO_ORIGIN, comma-separated)
  --key-iterations N      PBKDF2 iterations for your key
                          (STREAMO_KEY_ITERATIONS, default ${DEFAULT_KEY_ITERATIONS})
  --env-file[=PATH]       read variables from PATH (default ".env") first
  --verbose               log members, presence and rejections (STREAMO_VERBOSE=1)
  --help                  show this text
  --version               show the version

The chat page is served by \`deno task serve\` in a checkout of the
repository, once \`deno task build\` has made its islands bundle
(static/build/). Elsewhere — as when run from the published package —
--web serves the sync endpoint and the HTTP API, and / says how to get the page.

With none of --web, --outlet and --origin the node prints its box (your key)
and stops. Otherwise stop it with Ctrl-C (SIGINT) or SIGTERM: connections
close (each wait bounded) and the store is flushed.`;

/** The node's settings, before credentials are asked for. */
export interface NodeConfig {
  /** Your repo's name (the chat room with `--web`). */
  name: string;
  /** Username, unless it must be asked for. */
  username: string | undefined;
  /** Password, unless it must be asked for. */
  password: string | undefined;
  /** Where the file store lives. */
  dataDir: string;
  /** `--web` port, if serving the web. */
  web: number | undefined;
  /** `--outlet` port, if accepting peers there. */
  outlet: number | undefined;
  /** Interface to listen on. */
  hostname: string;
  /** Upstream nodes' WebSocket URLs. */
  origins: URL[];
  /** PBKDF2 iterations. */
  keyIterations: number;
  /** Log connections and rejections. */
  verbose: boolean;
  /** `--help` was given. */
  help: boolean;
  /** `--version` was given. */
  version: boolean;
  /** Things to warn about. */
  warnings: string[];
}

/**
 * Resolves the node's settings from `args`, `env` and the env file. Throws
 * an `Error` that names the flag or variable that is wrong, and why.
 */
export async function resolveNodeConfig(
  args: string[],
  env: Env,
  readFile: ReadFile = Deno.readTextFile,
): Promise<NodeConfig> {
  const { values, get } = await readSettings(args, env, readFile, {
    options: {
      name: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      "data-dir": { type: "string" },
      web: { type: "string" },
      outlet: { type: "string" },
      host: { type: "string" },
      origin: { type: "string", multiple: true },
      "key-iterations": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    optionalValues: {
      web: String(DEFAULT_WEB_PORT),
      outlet: String(DEFAULT_OUTLET_PORT),
    },
  }).catch(rethrowFlagError);
  const port = (flag: string, value: string | undefined) =>
    integerSetting(value, `the ${flag} port`, 0, 65535);
  const web = port("--web", values.web ?? get("STREAMO_WEB"));
  const outlet = port("--outlet", values.outlet ?? get("STREAMO_OUTLET"));
  if (web !== undefined && web !== 0 && web === outlet) {
    throw new RangeError(
      `Cannot start: --web and --outlet both ask for port ${web}; give them different ports`,
    );
  }
  const keyIterations = integerSetting(
    values["key-iterations"] ?? get("STREAMO_KEY_ITERATIONS"),
    "--key-iterations (STREAMO_KEY_ITERATIONS)",
    1,
    4_294_967_295,
  ) ?? DEFAULT_KEY_ITERATIONS;
  const originTexts = values.origin ??
    (get("STREAMO_ORIGIN") ?? "").split(/[\s,]+/).filter(Boolean);
  const origins = originTexts.map((text) => parseOrigin(text));
  const name = values.name ?? get("STREAMO_NAME") ?? "chat";
  if (!name.trim()) throw new RangeError("Cannot start: --name is empty");
  const warnings: string[] = [];
  if (keyIterations < DEFAULT_KEY_ITERATIONS) {
    warnings.push(
      `Your key is derived with only ${keyIterations} PBKDF2 iterations; use at least ${
        DEFAULT_KEY_ITERATIONS.toLocaleString("en-US")
      } outside tests.`,
    );
  }
  return {
    name,
    username: values.username ?? get("STREAMO_USERNAME") ?? undefined,
    password: values.password ?? get("STREAMO_PASSWORD") ?? undefined,
    dataDir: values["data-dir"] ?? get("STREAMO_DATA_DIR") ?? ".streamo",
    web,
    outlet,
    hostname: values.host ?? get("STREAMO_HOST") ?? "127.0.0.1",
    origins,
    keyIterations,
    verbose: values.verbose ?? isOn(get("STREAMO_VERBOSE")),
    help: values.help ?? false,
    version: values.version ?? false,
    warnings,
  };
}

/**
 * Throws `error`: a `parseArgs` error as a message for people (a
 * `TypeError` saying what is wrong and where to look), other errors as
 * they are. For `readSettings(…).catch(rethrowFlagError)`.
 */
export function rethrowFlagError(error: unknown): never {
  if (
    error instanceof Error &&
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    throw new TypeError(
      `Cannot start: ${error.message.replace(/\.\s*$/, "")}. See --help.`,
    );
  }
  throw error;
}
