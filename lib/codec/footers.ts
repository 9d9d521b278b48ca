/**
 * The footer table: the last byte of every code names its codec and, for
 * multi-part codecs, which storage option each part uses (SPEC §1).
 *
 * @module
 */

/** Footer of `undefined`. */
export const UNDEFINED = 0;
/** Footer of `null`. */
export const NULL = 1;
/** Footer of `false`. */
export const FALSE = 2;
/** Footer of `true`. */
export const TRUE = 3;
/** First WORD footer; a WORD of `n` (0..4) literal bytes has footer `WORD + n`. */
export const WORD = 4;
/** First UINT8ARRAY footer (byte arrays longer than 4). */
export const UINT8ARRAY = 9;
/** Footer of `""`. */
export const EMPTY_STRING = 14;
/** First STRING footer. */
export const STRING = 15;
/** First UINT7 footer; integer `n` in 0..127 has footer `UINT7 + n`. */
export const UINT7 = 20;
/** First FLOAT64 footer. */
export const FLOAT64 = 148;
/** First DATE footer. */
export const DATE = 153;
/** First SIGNATURE footer; footer = `SIGNATURE + addressBytes - 1`. */
export const SIGNATURE = 158;
/** First DUPLE footer; footer = `DUPLE + 5 * leftOption + rightOption`. */
export const DUPLE = 162;
/** Footer of `[]`. */
export const EMPTY_ARRAY = 187;
/** First ARRAY footer. */
export const ARRAY = 188;
/** Footer of `{}`. */
export const EMPTY_OBJECT = 193;
/** First OBJECT footer. */
export const OBJECT = 194;
/** First VARIABLE (boxed value) footer. */
export const VARIABLE = 199;
/** First unused footer: 204..255 name no codec. */
export const UNUSED = 204;

/** True when `footer` names a SIGNATURE (158..161). */
export function isSignatureFooter(footer: number): boolean {
  return footer >= SIGNATURE && footer < DUPLE;
}

/** Options of an inline-or-address part: 0 = inline, 1..4 = address bytes. */
export const PART_OPTIONS = 5;

/** Codec names, for messages and tools. */
export type CodecName =
  | "UNDEFINED"
  | "NULL"
  | "FALSE"
  | "TRUE"
  | "WORD"
  | "UINT8ARRAY"
  | "EMPTY_STRING"
  | "STRING"
  | "UINT7"
  | "FLOAT64"
  | "DATE"
  | "SIGNATURE"
  | "DUPLE"
  | "EMPTY_ARRAY"
  | "ARRAY"
  | "EMPTY_OBJECT"
  | "OBJECT"
  | "VARIABLE";

/**
 * The codec a footer byte names. Throws a `SyntaxError` for 204..255.
 *
 * @example
 * ```ts
 * import { codecOf } from "@streamo/streamo";
 * console.log(codecOf(0xc3)); // "OBJECT"
 * ```
 */
export function codecOf(footer: number): CodecName {
  if (footer < WORD) {
    return (["UNDEFINED", "NULL", "FALSE", "TRUE"] as const)[footer];
  }
  if (footer < UINT8ARRAY) return "WORD";
  if (footer < EMPTY_STRING) return "UINT8ARRAY";
  if (footer < STRING) return "EMPTY_STRING";
  if (footer < UINT7) return "STRING";
  if (footer < FLOAT64) return "UINT7";
  if (footer < DATE) return "FLOAT64";
  if (footer < SIGNATURE) return "DATE";
  if (footer < DUPLE) return "SIGNATURE";
  if (footer < EMPTY_ARRAY) return "DUPLE";
  if (footer < ARRAY) return "EMPTY_ARRAY";
  if (footer < EMPTY_OBJECT) return "ARRAY";
  if (footer < OBJECT) return "EMPTY_OBJECT";
  if (footer < VARIABLE) return "OBJECT";
  if (footer < UNUSED) return "VARIABLE";
  throw new SyntaxError(
    `Cannot read code: footer ${footer} (0x${
      footer.toString(16)
    }) names no codec (204..255 are unused)`,
  );
}
