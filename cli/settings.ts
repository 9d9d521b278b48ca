/**
 * Settings shared by the command-line programs and the dev server: flags
 * parsed with `node:util` `parseArgs`, then environment variables, then an
 * optional env file (`--env-file[=path]`), in that order of precedence.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** Reads the environment (`Deno.env` fits). */
export interface Env {
  /** The variable's value, or `undefined`. */
  get(name: string): string | undefined;
}

/** Reads a text file (`Deno.readTextFile` fits). */
export type ReadFile = (path: string) => Promise<string>;

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

/**
 * `value` as an integer in `[min, max]`, or `undefined` when unset or
 * empty. Throws a `RangeError` naming `what` and the value otherwise.
 */
export function integerSetting(
  value: string | undefined,
  what: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (
    !/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < min || n > max
  ) {
    throw new RangeError(
      `Cannot start: ${what} must be an integer ${
        max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`
      }, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** What {@linkcode readSettings} found. */
export interface Settings<V> {
  /** The parsed flags. */
  values: V;
  /** A variable from the environment, else from the env file. */
  get(name: string): string | undefined;
}

/** Options for {@linkcode readSettings}. */
export interface ReadSettingsOptions<T extends ParseArgsOptionsConfig> {
  /** The flags (`parseArgs` options); `env-file` is added. */
  options: T;
  /**
   * Flags whose value may be left out, with the value they then take:
   * `--web` alone (last, or followed by another flag) means `--web=8000`.
   * `env-file` defaults to `.env`.
   */
  optionalValues?: Record<string, string>;
}

/**
 * Parses `args` (strictly: unknown flags and stray arguments throw a
 * `TypeError` naming them), then reads the env file named by `--env-file`
 * with `readFile`. Throws an `Error` saying which file cannot be read.
 */
export async function readSettings<T extends ParseArgsOptionsConfig>(
  args: string[],
  env: Env,
  readFile: ReadFile,
  { options, optionalValues = {} }: ReadSettingsOptions<T>,
): Promise<
  Settings<
    ReturnType<typeof parseArgs<{ args: string[]; options: T }>>["values"] & {
      "env-file"?: string;
    }
  >
> {
  // `deno task name -- --flag` passes the `--` on: it only ends the task's own options.
  if (args[0] === "--") args = args.slice(1);
  const defaults: Record<string, string> = {
    "env-file": ".env",
    ...optionalValues,
  };
  args = args.map((arg, i) => {
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    return name !== undefined && name in defaults &&
        (i + 1 >= args.length || args[i + 1].startsWith("-"))
      ? `--${name}=${defaults[name]}`
      : arg;
  });
  const { values } = parseArgs({
    args,
    options: { ...options, "env-file": { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  let file: Record<string, string> = {};
  const envFile = (values as Record<string, unknown>)["env-file"];
  if (typeof envFile === "string") {
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
  return {
    // deno-lint-ignore no-explicit-any
    values: values as any,
    get: (name) => env.get(name) ?? file[name],
  };
}

/** Whether a boolean-ish environment value is on (`1`, `true`, `yes`, `on`). */
export function isOn(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
