/**
 * Minimal little-endian unsigned integers of 1..4 bytes, as used for
 * addresses inside codes.
 *
 * @module
 */

/** Largest address a 4-byte part can hold. */
export const MAX_ADDRESS = 0xffffffff;

/** Number of bytes of the minimal little-endian form of `n` (0 → 1). */
export function uintWidth(n: number): number {
  if (n < 0x100) return 1;
  if (n < 0x10000) return 2;
  if (n < 0x1000000) return 3;
  if (n <= MAX_ADDRESS) return 4;
  throw new RangeError(
    `Cannot encode address ${n}: addresses are limited to 4 bytes (max ${MAX_ADDRESS})`,
  );
}

/** Writes `n` in `width` little-endian bytes at `out[at]`; returns `at + width`. */
export function writeUint(
  out: Uint8Array,
  at: number,
  n: number,
  width: number,
): number {
  for (let i = 0; i < width; i++) {
    out[at + i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  return at + width;
}

/** Reads a little-endian integer of `width` bytes starting at `buf[at]`. */
export function readUint(buf: Uint8Array, at: number, width: number): number {
  let n = 0;
  for (let i = width - 1; i >= 0; i--) n = n * 256 + buf[at + i];
  return n;
}

/** The minimal little-endian bytes of `n`. */
export function uintBytes(n: number): Uint8Array {
  const width = uintWidth(n);
  const out = new Uint8Array(width);
  writeUint(out, 0, n, width);
  return out;
}
