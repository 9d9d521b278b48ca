/**
 * The box a node prints when it starts.
 *
 * @module
 */

import { box } from "./box.ts";
import type { StreamoNode } from "./node.ts";
import { VERSION } from "./version.ts";

/** The start-up box of `node`: name, username, key, URLs, data directory. */
export function nodeBox(
  node: StreamoNode,
  username: string,
  dataDir: string,
): string {
  const rows: [string, string][] = [
    ["name", node.name],
    ["username", username],
    ["key", node.key],
  ];
  if (node.web) {
    rows.push(["web", node.web.url]);
    if (!node.chatPage) {
      rows.push([
        "",
        "(sync and HTTP API only: no chat page here, see --help)",
      ]);
    }
  }
  if (node.outlet) {
    rows.push(["outlet", node.outlet.url.replace(/^http/, "ws")]);
  }
  for (const origin of node.origins) rows.push(["origin", origin.url.href]);
  rows.push(["data", dataDir]);
  return box(`streamo ${VERSION}`, rows);
}
