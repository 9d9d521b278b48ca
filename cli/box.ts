/**
 * The banner a node prints when it starts: a box of labelled lines.
 *
 * @module
 */

/**
 * Draws `rows` (`[label, value]`) in a box under `title`; labels are
 * padded to one width. Values are never cut, so a key can be copied whole.
 *
 * @example
 * ```ts
 * import { box } from "./box.ts";
 * console.log(box("streamo", [["name", "chat"]]));
 * ```
 */
export function box(title: string, rows: [string, string][]): string {
  const labelWidth = Math.max(0, ...rows.map(([label]) => label.length));
  const lines = [
    title,
    ...rows.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`),
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const bar = "─".repeat(width + 2);
  return [
    `┌${bar}┐`,
    ...lines.map((line) => `│ ${line.padEnd(width)} │`),
    `└${bar}┘`,
  ].join("\n");
}
