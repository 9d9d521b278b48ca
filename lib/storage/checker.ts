/**
 * Structural checks for stored streams, without keeping the bytes: every
 * chunk's length must equal the width its footer implies, and every address
 * inside it must name the last byte of an earlier chunk (SPEC §1).
 *
 * @module
 */

import { isSignatureFooter } from "../codec/footers.ts";
import { codeWidth, MAX_CHUNK_LENGTH } from "../codec/width.ts";

/** True when `chunk`'s footer (last byte) names a SIGNATURE (158..161). */
export function isSignatureChunk(chunk: Uint8Array): boolean {
  return isSignatureFooter(chunk[chunk.length - 1]);
}

/**
 * Throws unless `chunk` is one code whose footer width equals its length
 * (`SyntaxError` for a mismatch or unknown footer, `RangeError` for an empty
 * or over-long chunk). Addresses are not checked.
 */
export function checkChunkWidth(chunk: Uint8Array, where: string): void {
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot accept chunk ${where}: expected a Uint8Array, got ${typeof chunk}`,
    );
  }
  if (chunk.length === 0 || chunk.length > MAX_CHUNK_LENGTH) {
    throw new RangeError(
      `Cannot accept chunk ${where}: ${chunk.length} bytes is not a chunk length (1..${MAX_CHUNK_LENGTH})`,
    );
  }
  const width = codeWidth(chunk, chunk.length - 1);
  if (width !== chunk.length) {
    throw new SyntaxError(
      `Cannot accept chunk ${where}: its footer ${
        chunk[chunk.length - 1]
      } says ${width} bytes but it has ${chunk.length}`,
    );
  }
}

/**
 * Checks a stream chunk by chunk, remembering only where chunks end (one bit
 * per byte). {@linkcode StreamChecker.push} throws a `SyntaxError` or
 * `RangeError` naming the chunk's stream offset.
 */
export class StreamChecker {
  #ends = new Uint8Array(64);
  #length = 0;
  /** Checks one address part of the chunk being pushed (made once, not per chunk). */
  readonly #checkAddress = (address: number): void => {
    const start = this.#length;
    if (address >= start) {
      throw new RangeError(
        `Bad chunk at stream offset ${start}: it references address ${address}, which is not before the chunk`,
      );
    }
    if ((this.#ends[address >> 3] & (1 << (address & 7))) === 0) {
      throw new RangeError(
        `Bad chunk at stream offset ${start}: it references address ${address}, which is inside a chunk, not a chunk's last byte`,
      );
    }
  };

  /** Stream bytes checked so far. */
  get length(): number {
    return this.#length;
  }

  /** Checks `chunk` as the next chunk of the stream and records it. */
  push(chunk: Uint8Array): void {
    const start = this.#length;
    const n = chunk.length;
    if (n === 0 || n > MAX_CHUNK_LENGTH) {
      throw new RangeError(
        `Bad chunk at stream offset ${start}: ${n} bytes is not a chunk length (1..${MAX_CHUNK_LENGTH})`,
      );
    }
    const width = codeWidth(chunk, n - 1, 0, this.#checkAddress);
    if (width !== n) {
      throw new SyntaxError(
        `Bad chunk at stream offset ${start}: its footer ${
          chunk[n - 1]
        } says ${width} bytes but it has ${n}`,
      );
    }
    const last = start + n - 1;
    let ends = this.#ends;
    if ((last >> 3) >= ends.length) {
      const grown = new Uint8Array(Math.max(ends.length * 2, (last >> 3) + 1));
      grown.set(ends);
      this.#ends = ends = grown;
    }
    ends[last >> 3] |= 1 << (last & 7);
    this.#length = last + 1;
  }
}
