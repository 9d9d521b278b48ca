/**
 * Width of a code, parsed right to left from its footer (SPEC §1).
 *
 * @module
 */

import {
  ARRAY,
  DUPLE,
  EMPTY_ARRAY,
  EMPTY_OBJECT,
  EMPTY_STRING,
  FLOAT64,
  OBJECT,
  PART_OPTIONS,
  SIGNATURE,
  STRING,
  UINT7,
  UINT8ARRAY,
  UNUSED,
  VARIABLE,
  WORD,
} from "./footers.ts";
import { readUint } from "./varint.ts";

/**
 * The longest well-formed chunk: a SIGNATURE with a 4-byte address
 * (1 + 4 + 64). Every other code is at most 9 bytes, because a part is only
 * stored inline when it is no longer than an address would be.
 */
export const MAX_CHUNK_LENGTH = 69;

/** Bytes of signature data in a SIGNATURE chunk. */
export const SIGNATURE_BYTES = 64;

function truncated(end: number, start: number): RangeError {
  return new RangeError(
    `Cannot read code ending at byte ${end}: it runs past its start (byte ${start}); the code is truncated`,
  );
}

/**
 * Width of the code whose footer is `buf[end]`, which must lie within
 * `buf[start..end]`. Throws a `SyntaxError` for an unknown footer and a
 * `RangeError` when the code would run before `start` or exceed
 * {@linkcode MAX_CHUNK_LENGTH}. `checkAddress` is called with every address
 * part (and the offset of its last byte) and may throw to reject it.
 */
export function codeWidth(
  buf: Uint8Array,
  end: number,
  start = 0,
  checkAddress?: (address: number, at: number) => void,
): number {
  if (end < start || end >= buf.length) throw truncated(end, start);
  const floor = Math.max(start, end - MAX_CHUNK_LENGTH + 1);
  return widthWithin(buf, end, floor, checkAddress);
}

function partWidth(
  buf: Uint8Array,
  partEnd: number,
  option: number,
  floor: number,
  check?: (address: number, at: number) => void,
): number {
  if (partEnd < floor) throw truncated(partEnd, floor);
  if (option === 0) return widthWithin(buf, partEnd, floor, check);
  if (partEnd - option + 1 < floor) throw truncated(partEnd, floor);
  if (check) check(readUint(buf, partEnd - option + 1, option), partEnd);
  return option;
}

function widthWithin(
  buf: Uint8Array,
  end: number,
  floor: number,
  check?: (address: number, at: number) => void,
): number {
  const f = buf[end];
  let width: number;
  if (f < WORD) width = 1;
  else if (f < UINT8ARRAY) width = 1 + f - WORD;
  else if (f < EMPTY_STRING) {
    width = 1 + partWidth(buf, end - 1, f - UINT8ARRAY, floor, check);
  } else if (f < STRING) width = 1;
  else if (f < UINT7) {
    width = 1 + partWidth(buf, end - 1, f - STRING, floor, check);
  } else if (f < FLOAT64) width = 1;
  else if (f < SIGNATURE) {
    // FLOAT64 and DATE: one inline-or-address part.
    width = 1 +
      partWidth(buf, end - 1, (f - FLOAT64) % PART_OPTIONS, floor, check);
  } else if (f < DUPLE) width = 1 + (f - SIGNATURE + 1) + SIGNATURE_BYTES;
  else if (f < EMPTY_ARRAY) {
    const option = f - DUPLE;
    const right = partWidth(buf, end - 1, option % PART_OPTIONS, floor, check);
    const left = partWidth(
      buf,
      end - 1 - right,
      Math.floor(option / PART_OPTIONS),
      floor,
      check,
    );
    width = 1 + left + right;
  } else if (f === EMPTY_ARRAY || f === EMPTY_OBJECT) width = 1;
  else if (f < UNUSED) {
    // ARRAY 188..192, OBJECT 194..198, VARIABLE 199..203: one part each.
    const base = f < EMPTY_OBJECT ? ARRAY : f < VARIABLE ? OBJECT : VARIABLE;
    width = 1 + partWidth(buf, end - 1, f - base, floor, check);
  } else {
    throw new SyntaxError(
      `Cannot read code ending at byte ${end}: footer ${f} (0x${
        f.toString(16)
      }) names no codec (204..255 are unused)`,
    );
  }
  if (end - width + 1 < floor) throw truncated(end, floor);
  return width;
}
