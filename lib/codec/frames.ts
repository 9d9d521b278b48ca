/**
 * Chunk frames, the unit of the wire and archive formats (SPEC §5):
 * `[u32 little-endian length][chunk]`.
 *
 * @module
 */

/** Largest frame length the reference accepts (64 MiB). */
export const REFERENCE_MAX_FRAME = 64 * 1024 * 1024;

/** Bytes of a frame header. */
export const FRAME_HEADER = 4;

/** Frames for `chunks`, concatenated. */
export function encodeFrames(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const chunk of chunks) total += FRAME_HEADER + chunk.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const chunk of chunks) {
    view.setUint32(at, chunk.length, true);
    out.set(chunk, at + FRAME_HEADER);
    at += FRAME_HEADER + chunk.length;
  }
  return out;
}

/**
 * Splits a byte stream of frames into chunks, however the bytes are cut
 * into pieces. Linear: each byte is copied at most once.
 *
 * @example
 * ```ts
 * import { encodeFrames, FrameParser } from "@streamo/streamo";
 * const parser = new FrameParser();
 * const bytes = encodeFrames([new Uint8Array([0x15])]);
 * console.log(parser.push(bytes.subarray(0, 2)).length); // 0
 * console.log(parser.push(bytes.subarray(2)).length); // 1
 * ```
 */
export class FrameParser {
  readonly #maxLength: number;
  readonly #header = new Uint8Array(FRAME_HEADER);
  #headerFill = 0;
  #chunk: Uint8Array | undefined;
  #chunkFill = 0;
  #offset = 0;

  /** `maxLength` bounds a frame's length (default: the reference's 64 MiB). */
  constructor(maxLength: number = REFERENCE_MAX_FRAME) {
    this.#maxLength = maxLength;
  }

  /** Bytes consumed so far (complete frames and the partial one). */
  get offset(): number {
    return this.#offset;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.#headerFill === 0 && this.#chunk === undefined;
  }

  /**
   * Feeds bytes; returns the chunks they complete (fresh copies). Throws a
   * `SyntaxError` for a zero-length frame and a `RangeError` for one above
   * the limit; the parser is then unusable.
   */
  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.pushEach(bytes, (buf, start, end) => out.push(buf.slice(start, end)));
    return out;
  }

  /**
   * Feeds bytes and calls `sink(buf, start, end)` for each chunk they
   * complete, as a range of a buffer that is only valid during the call
   * (no copy for chunks that arrived whole). Same errors as `push`.
   */
  pushEach(
    bytes: Uint8Array,
    sink: (buf: Uint8Array, start: number, end: number) => void,
  ): void {
    const n = bytes.length;
    let at = 0;
    while (at < n) {
      if (this.#chunk === undefined) {
        let length: number;
        if (this.#headerFill === 0 && at + FRAME_HEADER <= n) {
          // Fast path: the whole header is in this piece.
          length = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) +
            bytes[at + 3] * 0x1000000;
          at += FRAME_HEADER;
        } else {
          while (this.#headerFill < FRAME_HEADER && at < n) {
            this.#header[this.#headerFill++] = bytes[at++];
          }
          if (this.#headerFill < FRAME_HEADER) break;
          const h = this.#header;
          length = (h[0] | (h[1] << 8) | (h[2] << 16)) + h[3] * 0x1000000;
          this.#headerFill = 0;
        }
        this.#checkLength(length, this.#offset + at - FRAME_HEADER);
        if (at + length <= n) {
          // Fast path: the whole chunk is in this piece.
          at += length;
          sink(bytes, at - length, at);
          continue;
        }
        this.#chunk = new Uint8Array(length);
        this.#chunkFill = 0;
      }
      const chunk = this.#chunk;
      const take = Math.min(chunk.length - this.#chunkFill, n - at);
      chunk.set(bytes.subarray(at, at + take), this.#chunkFill);
      this.#chunkFill += take;
      at += take;
      if (this.#chunkFill === chunk.length) {
        this.#chunk = undefined;
        sink(chunk, 0, chunk.length);
      }
    }
    this.#offset += n;
  }

  #checkLength(length: number, frameStart: number): void {
    if (length === 0) {
      throw new SyntaxError(`Malformed frame at byte ${frameStart}: length 0`);
    }
    if (length > this.#maxLength) {
      throw new RangeError(
        `Malformed frame at byte ${frameStart}: length ${length} is above the limit of ${this.#maxLength}`,
      );
    }
  }
}
