/**
 * The streamo server entry point: `deno task dev`. One process is the
 * relay and the chat room; see `--help` for its settings.
 *
 * @module
 */

import { useFastestBackend } from "./lib/identity/mod.ts";
import { resolveConfig, USAGE } from "./routes/config.ts";
import { startChatServer } from "./routes/server.ts";
import { openDeploymentStorage, resolveDeployment } from "./routes/deploy.ts";

try {
  const config = await resolveConfig(Deno.args, Deno.env);
  if (config.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  for (const warning of config.warnings) console.warn(`⚠ ${warning}`);
  await useFastestBackend();
  const { options } = config;
  // Deno Deploy (or no writable file system): Deno KV, fanned out live.
  const deployment = await resolveDeployment(Deno.env, options.dataDir);
  const storage = await openDeploymentStorage(deployment);
  if (deployment.onDeploy && !Deno.env.get("STREAMO_HOST")) {
    options.hostname = "0.0.0.0";
  }
  const chat = await startChatServer({
    ...options,
    storage,
    dataDir: storage ? options.dataDir : null,
    broadcast: deployment.broadcast,
  });
  console.log(
    `streamo chat room #${chat.config.name} at ${chat.url}\n` +
      `  room key ${chat.room.key}\n` +
      `  store: ${deployment.description}\n  ${
        chat.config.keyIterations.toLocaleString("en-US")
      } PBKDF2 iterations${
        config.devCredentials ? ", DEVELOPMENT credentials" : ""
      }`,
  );
  const stop = async () => {
    console.log("Stopping: closing connections and flushing the store…");
    await chat.close();
    await storage?.close();
    Deno.exit(0);
  };
  const bundle = new URL("./static/build/manifest.json", import.meta.url);
  await Deno.stat(bundle).catch(() =>
    console.warn(
      "⚠ No islands bundle in static/build/: the page renders but is not interactive. Run `deno task build` first (before deploying, too).",
    )
  );
  try {
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  } catch {
    // Deno Deploy has no signals: isolates stop on their own.
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  Deno.exit(1);
}
