/**
 * `deno task serve`: the `streamo` CLI (`cli/main.ts`) with the chat page
 * on `--web` — the page lives here in the checkout, not in the published
 * package, and needs the islands bundle (`deno task build`).
 *
 * @module
 */

import { run } from "../cli/main.ts";
import { mountChat } from "./mod.ts";

if (import.meta.main) await run(Deno.args, { mountChat });
