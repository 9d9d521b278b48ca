/**
 * Checks shared by the drivers' `append` and `replace` (see
 * `StorageDriver` in `types.ts`): the arguments, and whether a stream
 * offset is a place a stored stream may be cut — a chunk boundary right
 * after a SIGNATURE chunk, or 0. Runtime-neutral.
 *
 * @module
 */

import { checkChunkWidth, isSignatureChunk } from "./checker.ts";
import { shortKey } from "./keys.ts";
import { chunkStarts, type Piece } from "./pieces.ts";

/**
 * Checks `append`'s `offset` and `chunks` (the key is checked by the
 * caller) as the KV and IndexedDB drivers do. Throws a `RangeError` for an
 * offset that is not a non-negative integer, for an empty range (or one
 * that is not an array) and for a range that does not end with a SIGNATURE
 * chunk, and a `TypeError`/`SyntaxError`/`RangeError` for a bad chunk.
 */
export function checkAppendRange(
  key: string,
  offset: number,
  chunks: Uint8Array[],
): void {
  const where = `for ${shortKey(key)}`;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(
      `Cannot append ${where}: offset must be a non-negative integer, got ${offset}`,
    );
  }
  if (!Array.isArray(chunks) || chunks.length === 0) {
    throw new RangeError(
      `Cannot append ${where} at ${offset}: the range is empty`,
    );
  }
  for (let i = 0; i < chunks.length; i++) {
    checkChunkWidth(chunks[i], `${i} of the range at ${offset} ${where}`);
  }
  if (!isSignatureChunk(chunks[chunks.length - 1])) {
    throw new RangeError(
      `Cannot append ${where} at ${offset}: the range does not end with a SIGNATURE chunk; only verified ranges are stored`,
    );
  }
}

/**
 * Checks `replace`'s `offset` and `chunks` (the key is checked by the
 * caller) and returns the stream bytes in `chunks`. Throws a `RangeError`
 * for an offset that is not a non-negative integer or a non-empty range
 * that does not end with a SIGNATURE chunk, a `TypeError` when `chunks` is
 * not an array of `Uint8Array`, and a `SyntaxError`/`RangeError` for a
 * malformed chunk. An empty array is valid: it truncates.
 */
export function checkReplacement(
  key: string,
  offset: number,
  chunks: Uint8Array[],
): number {
  const where = `the stored stream of ${shortKey(key)}`;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(
      `Cannot replace ${where}: offset must be a non-negative integer, got ${offset}`,
    );
  }
  if (!Array.isArray(chunks)) {
    throw new TypeError(
      `Cannot replace ${where} from ${offset}: expected an array of chunks (empty to truncate), got ${typeof chunks}`,
    );
  }
  let bytes = 0;
  for (let i = 0; i < chunks.length; i++) {
    checkChunkWidth(
      chunks[i],
      `${i} of the replacement at ${offset} for ${shortKey(key)}`,
    );
    bytes += chunks[i].length;
  }
  if (chunks.length > 0 && !isSignatureChunk(chunks[chunks.length - 1])) {
    throw new RangeError(
      `Cannot replace ${where} from ${offset}: the replacement does not end with a SIGNATURE chunk; only verified ranges are stored (pass an empty array to truncate)`,
    );
  }
  return bytes;
}

/**
 * The `RangeError` for a replace offset that cannot be used; `why` says
 * why (it follows "from stream offset N: ").
 */
export function replaceOffsetError(
  key: string,
  offset: number,
  why: string,
): RangeError {
  return new RangeError(
    `Cannot replace the stored stream of ${
      shortKey(key)
    } from stream offset ${offset}: ${why}. Nothing was changed`,
  );
}

/** The reason an offset beyond the stored length is refused. */
export function beyondStored(stored: number): string {
  return `only ${stored} bytes are stored, and a replace must start within them (at the end of the history both sides share)`;
}

/**
 * Throws {@linkcode replaceOffsetError} unless `offset` (> 0) is the end of
 * a SIGNATURE chunk of `piece`, the stored piece holding byte `offset - 1`
 * (whole chunks; `undefined` when none holds it).
 */
export function checkPieceBoundary(
  key: string,
  offset: number,
  piece: Piece | undefined,
): void {
  if (
    piece === undefined || piece.offset >= offset ||
    piece.offset + piece.bytes.length < offset
  ) {
    throw replaceOffsetError(
      key,
      offset,
      `no stored piece holds byte ${offset - 1}`,
    );
  }
  const cut = offset - piece.offset;
  const starts = chunkStarts(
    piece.bytes,
    `the piece at offset ${piece.offset}`,
  );
  const index = starts.indexOf(cut);
  if (index < 0) {
    throw replaceOffsetError(
      key,
      offset,
      "it is inside a chunk, not a chunk boundary",
    );
  }
  if (!isSignatureChunk(piece.bytes.subarray(starts[index - 1], cut))) {
    throw replaceOffsetError(
      key,
      offset,
      "the chunk before it is not a SIGNATURE chunk, so the bytes kept would not end on a verified range",
    );
  }
}
