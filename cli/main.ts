/**
 * `streamo`: runs a node — your repo and everything it syncs, kept in a
 * file store, served to browsers (`--web`) and peers (`--outlet`), chained
 * to upstream nodes (`--origin`). `deno task serve -- --help`, or
 * `deno run -A jsr:@streamo/streamo/cli --help`.
 *
 * @module
 */

import { useFastestBackend } from "../lib/identity/mod.ts";
import { NODE_USAGE, resolveNodeConfig } from "./config.ts";
import { startNode } from "./node.ts";
import { nodeBox } from "./node_box.ts";
import type { MountChat } from "./page.ts";
import { resolveCredentials } from "./prompt.ts";
import { onShutdownSignal, runProcess } from "./shutdown.ts";
import { answerHelpOrVersion } from "./version.ts";

export type { MountChat, PageRoom } from "./page.ts";

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** Mounts the chat page on `--web` (a checkout's `routes/serve.ts` gives it). */
  mountChat?: MountChat;
}

/**
 * Runs the CLI with `args`. Resolves with an exit code when it is done
 * (`--help`, `--version`), or with -1 once the node runs (it then stops on
 * SIGINT/SIGTERM). Throws an `Error` saying what could not start.
 */
export async function main(
  args: string[],
  options: MainOptions = {},
): Promise<number> {
  const config = await resolveNodeConfig(args, Deno.env);
  if (answerHelpOrVersion(config, "streamo", NODE_USAGE)) return 0;
  for (const warning of config.warnings) console.error(`⚠ ${warning}`);
  const { username, password } = await resolveCredentials(config);
  await useFastestBackend();
  const log = (line: string) => console.error(line);
  const node = await startNode({
    name: config.name,
    username,
    password,
    keyIterations: config.keyIterations,
    dataDir: config.dataDir,
    web: config.web,
    outlet: config.outlet,
    hostname: config.hostname,
    origins: config.origins,
    verbose: config.verbose,
    mountChat: options.mountChat,
    log,
  });
  const serving = config.web !== undefined || config.outlet !== undefined ||
    config.origins.length > 0;
  if (!serving) {
    console.log(nodeBox(node, username, config.dataDir));
    log(
      "Neither --web, --outlet nor --origin given: nothing to serve, so the node stops after showing its key. See --help.",
    );
    await node.close();
    return 0;
  }
  onShutdownSignal(async (signal) => {
    log(`${signal}: closing connections and flushing the store…`);
    await node.close();
    log("Stopped.");
  });
  console.log(nodeBox(node, username, config.dataDir));
  return -1;
}

/** Runs {@linkcode main} as the process: exits with its code, or 1 on an error. */
export function run(
  args: string[],
  options?: MainOptions,
): Promise<void> {
  return runProcess(() => main(args, options));
}

if (import.meta.main) await run(Deno.args);
