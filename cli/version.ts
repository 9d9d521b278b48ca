/**
 * The package's name and version, from its `deno.json`.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };

/** The package version (`deno.json` `version`). */
export const VERSION: string = meta.version;

/** The package name (`deno.json` `name`). */
export const PACKAGE: string = meta.name;
