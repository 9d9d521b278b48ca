// The chat server's settings: flags over environment over env file, safe
// development defaults that say so, errors that name the setting.

import assert from "node:assert/strict";
import { DEV_USERNAME, parseEnvFile, resolveConfig } from "../routes/config.ts";

const env = (vars: Record<string, string>) => ({
  get: (name: string) => vars[name],
});
const noFile = () => Promise.reject(new Error("no such file"));

Deno.test("defaults are for development, and the log says so", async () => {
  const config = await resolveConfig([], env({}), noFile);
  assert.equal(config.devCredentials, true);
  assert.equal(config.options.username, DEV_USERNAME);
  assert.equal(config.options.dataDir, ".streamo");
  assert.equal(config.options.port, 8000);
  assert.equal(config.options.hostname, "127.0.0.1");
  assert.equal(
    config.options.keyIterations,
    undefined,
    "the server's default (600,000) applies",
  );
  assert.match(config.warnings[0], /DEVELOPMENT credentials/);
});

Deno.test("flags win over the environment, which wins over the env file", async () => {
  const file =
    "STREAMO_NAME=fromfile\nSTREAMO_WEB=7000\n# comment\nexport STREAMO_DATA_DIR='/tmp/x'\n";
  const config = await resolveConfig(
    ["--env-file=test.env", "--port", "9000", "--username", "u"],
    env({
      STREAMO_PASSWORD: "p",
      STREAMO_WEB: "8080",
      STREAMO_KEY_ITERATIONS: "1000",
    }),
    (path) => path === "test.env" ? Promise.resolve(file) : noFile(),
  );
  assert.equal(config.options.port, 9000);
  assert.equal(config.options.name, "fromfile");
  assert.equal(config.options.dataDir, "/tmp/x");
  assert.equal(config.options.username, "u");
  assert.equal(config.options.password, "p");
  assert.equal(config.devCredentials, false);
  assert.equal(config.options.keyIterations, 1000);
  assert.match(config.warnings[0], /only 1000 PBKDF2 iterations/);
});

Deno.test("bad settings are refused with the reason", async () => {
  await assert.rejects(
    () => resolveConfig([], env({ STREAMO_USERNAME: "only-user" }), noFile),
    /set both the username and the password.*only the username is set/,
  );
  await assert.rejects(
    () => resolveConfig(["--port", "x"], env({}), noFile),
    /the port must be an integer/,
  );
  await assert.rejects(
    () => resolveConfig(["--env-file=missing.env"], env({}), noFile),
    /Cannot read the env file missing.env/,
  );
  await assert.rejects(() => resolveConfig(["--nope"], env({}), noFile));
  // A bare --env-file reads .env.
  const bare = await resolveConfig(
    ["--env-file", "--host", "0.0.0.0"],
    env({}),
    (path) => path === ".env" ? Promise.resolve("STREAMO_WEB=1234") : noFile(),
  );
  assert.equal(bare.options.port, 1234);
  assert.equal(bare.options.hostname, "0.0.0.0");
  assert.throws(
    () => parseEnvFile("A=1\nnot a pair\n", "x.env"),
    /x.env: line 2/,
  );
});
