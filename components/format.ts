/**
 * Formatting shared by the server render and the islands, so both produce
 * the same text for the same data and settings.
 *
 * @module
 */

/** How to show times: a time zone and locale (server: from the client's cookie). */
export interface TimeSettings {
  /** IANA time zone; `undefined` = the runtime's own (the browser's). */
  timeZone?: string;
  /** BCP 47 locale; `undefined` = the runtime's default. */
  locale?: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(
  settings: TimeSettings,
  kind: "time" | "day" | "full",
): Intl.DateTimeFormat {
  const id = `${kind}|${settings.timeZone ?? ""}|${settings.locale ?? ""}`;
  let found = formats.get(id);
  if (!found) {
    const options: Intl.DateTimeFormatOptions = kind === "time"
      ? { hour: "2-digit", minute: "2-digit" }
      : kind === "day"
      ? { weekday: "long", year: "numeric", month: "long", day: "numeric" }
      : { dateStyle: "full", timeStyle: "medium" };
    try {
      found = new Intl.DateTimeFormat(settings.locale, {
        ...options,
        timeZone: settings.timeZone,
      });
    } catch {
      // An unknown zone or locale from a cookie: fall back to the defaults.
      found = new Intl.DateTimeFormat(undefined, options);
    }
    formats.set(id, found);
  }
  return found;
}

/** "14:03" (or the locale's equivalent) in the given zone. */
export function formatTime(at: number, settings: TimeSettings = {}): string {
  return format(settings, "time").format(at);
}

/** "Wednesday, 26 November 2025" in the given zone. */
export function formatDay(at: number, settings: TimeSettings = {}): string {
  return format(settings, "day").format(at);
}

/** The full date and time, for a tooltip. */
export function formatFull(at: number, settings: TimeSettings = {}): string {
  return format(settings, "full").format(at);
}

/** A stable hue (0–359) for a key, so each sender keeps one colour. */
export function keyHue(key: string): number {
  let h = 0;
  for (let i = 2; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h % 360;
}

/** Parses the `streamo_tz` cookie value: `zone|locale`. */
export function parseTimeCookie(cookie: string | undefined): TimeSettings {
  if (!cookie) return {};
  const [zone, locale] = decodeURIComponent(cookie).split("|");
  const settings: TimeSettings = {};
  if (zone && /^[A-Za-z0-9_+\-/]{1,64}$/.test(zone)) settings.timeZone = zone;
  if (locale && /^[A-Za-z0-9-]{1,35}$/.test(locale)) settings.locale = locale;
  return settings;
}
