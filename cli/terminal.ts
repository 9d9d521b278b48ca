/**
 * How the terminal chat shows things: local times, names, and text made
 * safe for a terminal (a peer's message cannot send escape sequences).
 *
 * @module
 */

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * `at` (ms since epoch) in local time: `HH:MM:SS` on the day of `now`,
 * `YYYY-MM-DD HH:MM:SS` on other days.
 */
export function localTime(at: number, now: number = Date.now()): string {
  const d = new Date(at);
  const today = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${
    pad(d.getSeconds())
  }`;
  if (
    d.getFullYear() === today.getFullYear() &&
    d.getMonth() === today.getMonth() && d.getDate() === today.getDate()
  ) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${
    pad(d.getDate())
  } ${time}`;
}

/**
 * `text` without terminal control characters (escape sequences, carriage
 * returns, bells…); newlines and tabs stay.
 */
export function safeText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");
}

/**
 * One chat line: `[time] name: text`, continuation lines indented under
 * the text.
 */
export function formatMessage(
  line: { name: string; text: string; at: number },
  now: number = Date.now(),
): string {
  const head = `[${localTime(line.at, now)}] ${safeText(line.name)}: `;
  const [first, ...rest] = safeText(line.text).split("\n");
  return [head + first, ...rest.map((l) => " ".repeat(head.length) + l)]
    .join("\n");
}

/** An event line: `* text`. */
export function formatEvent(text: string): string {
  return `* ${safeText(text)}`;
}
