/**
 * The package's version, from its `deno.json`, and the `--help` and
 * `--version` answers of the command-line programs.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };

/** The package version (`deno.json` `version`). */
export const VERSION: string = meta.version;

/**
 * Answers `--help` (prints `usage`) or `--version` (prints `program` and
 * the version) on stdout. Returns whether one of them was asked for (the
 * program then exits with code 0).
 */
export function answerHelpOrVersion(
  config: { help: boolean; version: boolean },
  program: string,
  usage: string,
): boolean {
  if (config.help) {
    console.log(usage);
    return true;
  }
  if (config.version) {
    console.log(`${program} ${VERSION}`);
    return true;
  }
  return false;
}
