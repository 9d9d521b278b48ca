/**
 * The streamo server entry point: `deno task dev`. One process is the
 * relay and the chat room; see `--help` for its settings.
 *
 * @module
 */

import { useFastestBackend } from "./lib/identity/mod.ts";
import { resolveConfig, USAGE } from "./routes/config.ts";
import { startChatServer } from "./routes/server.ts";

try {
  const config = await resolveConfig(Deno.args, Deno.env);
  if (config.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  for (const warning of config.warnings) console.warn(`⚠ ${warning}`);
  await useFastestBackend();
  const chat = await startChatServer(config.options);
  const { options } = config;
  console.log(
    `streamo chat room #${chat.config.name} at ${chat.url}\n` +
      `  room key ${chat.room.key}\n` +
      `  store ${options.dataDir ?? "(memory)"}, ${
        chat.config.keyIterations.toLocaleString("en-US")
      } PBKDF2 iterations${
        config.devCredentials ? ", DEVELOPMENT credentials" : ""
      }`,
  );
  const stop = async () => {
    console.log("Stopping: closing connections and flushing the store…");
    await chat.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  Deno.exit(1);
}
