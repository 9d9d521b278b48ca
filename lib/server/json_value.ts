/**
 * The JSON mapping of repo values served by `GET /streams/:key`: plain JSON
 * where JSON can say it, tagged objects where it cannot (the same tags as
 * the reference vectors).
 *
 * | value | JSON |
 * |---|---|
 * | `undefined` (also array holes) | `{"$undefined": true}` |
 * | `Date` | `{"$date": ms since epoch}` |
 * | `Uint8Array` | `{"$bytes": "lower-case hex"}` |
 * | `NaN`, `Infinity`, `-Infinity`, `-0` | `{"$number": "NaN"}` etc. |
 * | object with a key starting with `$` | `{"$object": {…}}` |
 *
 * @module
 */

import { bytesToHex } from "../codec/hex.ts";

/** A JSON value. */
export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

/**
 * The JSON form of a decoded repo value (see the module's table).
 *
 * @example
 * ```ts
 * import { toJsonValue } from "@streamo/streamo/server";
 * console.log(JSON.stringify(toJsonValue({ at: new Date(5), x: undefined })));
 * // {"at":{"$date":5},"x":{"$undefined":true}}
 * ```
 */
export function toJsonValue(value: unknown): Json {
  if (value === undefined) return { $undefined: true };
  if (
    value === null || typeof value === "boolean" || typeof value === "string"
  ) {
    return value;
  }
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $number: "NaN" };
    if (value === Infinity) return { $number: "Infinity" };
    if (value === -Infinity) return { $number: "-Infinity" };
    if (Object.is(value, -0)) return { $number: "-0" };
    return value;
  }
  if (value instanceof Date) return { $date: value.getTime() };
  if (value instanceof Uint8Array) return { $bytes: bytesToHex(value) };
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (let i = 0; i < value.length; i++) out.push(toJsonValue(value[i]));
    return out;
  }
  if (typeof value === "object") {
    const out: { [key: string]: Json } = {};
    let tagged = false;
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith("$")) tagged = true;
      out[k] = toJsonValue(v);
    }
    return tagged ? { $object: out } : out;
  }
  throw new TypeError(`Cannot map a ${typeof value} to JSON`);
}
