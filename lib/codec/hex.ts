/**
 * Hexadecimal text ⇄ bytes.
 *
 * @module
 */

const HEX = "0123456789abcdef";
const BYTE_TO_HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => HEX[i >> 4] + HEX[i & 15],
);

/**
 * Lower-case hex text of `bytes`.
 *
 * @example
 * ```ts
 * import { bytesToHex } from "@streamo/streamo";
 * console.log(bytesToHex(new Uint8Array([0, 171]))); // "00ab"
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

function nibble(code: number, text: string, index: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  throw new SyntaxError(
    `Cannot parse hex: character ${
      JSON.stringify(text[index])
    } at index ${index} is not a hex digit`,
  );
}

/**
 * Bytes of hex text (either case). Throws a `SyntaxError` for odd length or
 * a non-hex character.
 *
 * @example
 * ```ts
 * import { hexToBytes } from "@streamo/streamo";
 * console.log(hexToBytes("00ab")); // Uint8Array(2) [ 0, 171 ]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== "string") {
    throw new TypeError(
      `Cannot parse hex: expected a string, got ${typeof hex}`,
    );
  }
  if (hex.length % 2 !== 0) {
    throw new SyntaxError(
      `Cannot parse hex: length ${hex.length} is odd`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (nibble(hex.charCodeAt(2 * i), hex, 2 * i) << 4) |
      nibble(hex.charCodeAt(2 * i + 1), hex, 2 * i + 1);
  }
  return out;
}
