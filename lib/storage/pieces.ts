/**
 * Pieces: a verified range stored as a few values of concatenated chunks,
 * for stores with a value size limit (Deno KV, IndexedDB). A piece starts
 * and ends on chunk boundaries, so its chunks are recovered by parsing
 * right to left from its last byte: each chunk's width comes from its
 * footer (SPEC §1). No per-chunk framing is stored.
 *
 * @module
 */

import { codeWidth } from "../codec/width.ts";
import { isSignatureChunk, StreamChecker } from "./checker.ts";
import { StorageError } from "./errors.ts";

/** A piece and the stream offset of its first byte. */
export interface Piece {
  /** Stream offset of `bytes[0]`. */
  offset: number;
  /** Whole chunks, concatenated. */
  bytes: Uint8Array;
}

/**
 * Packs `chunks` (starting at stream offset `offset`) into pieces of at
 * most `maxBytes` bytes, cutting only between chunks.
 */
export function packPieces(
  chunks: readonly Uint8Array[],
  offset: number,
  maxBytes: number,
): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let at = offset;
  while (i < chunks.length) {
    let size = 0;
    let j = i;
    while (j < chunks.length && size + chunks[j].length <= maxBytes) {
      size += chunks[j++].length;
    }
    if (j === i) {
      throw new RangeError(
        `Cannot pack a ${
          chunks[i].length
        }-byte chunk into pieces of ${maxBytes} bytes`,
      );
    }
    const bytes = new Uint8Array(size);
    let fill = 0;
    for (let k = i; k < j; k++) {
      bytes.set(chunks[k], fill);
      fill += chunks[k].length;
    }
    pieces.push({ offset: at, bytes });
    at += size;
    i = j;
  }
  return pieces;
}

/**
 * Where each chunk of `piece` starts, in order, found by parsing right to
 * left (plus `piece.length` at the end). Throws a `SyntaxError`/`RangeError`
 * when the bytes are not whole codes; `where` names the piece.
 */
export function chunkStarts(piece: Uint8Array, where: string): number[] {
  const starts: number[] = [piece.length];
  let end = piece.length - 1;
  try {
    while (end >= 0) {
      end -= codeWidth(piece, end, 0);
      starts.push(end + 1);
    }
  } catch (error) {
    const E = error instanceof SyntaxError ? SyntaxError : RangeError;
    throw new E(
      `Cannot read ${where}: the code ending at its byte ${end} is malformed (${
        (error as Error).message
      })`,
    );
  }
  return starts.reverse();
}

/**
 * The chunks of a stored stream of `length` bytes from its pieces (sorted
 * by offset; pieces at or beyond `length` are ignored as uncommitted),
 * checked: pieces must be contiguous, hold whole codes with valid addresses,
 * and the stream must end with a SIGNATURE chunk. Throws a
 * {@linkcode StorageError} naming `source` and the offset, carrying the
 * readable prefix.
 */
export function readPieces(
  pieces: Iterable<Piece>,
  length: number,
  context: { key: string; source: string },
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const fail = (message: string, offset: number, cause?: unknown) => {
    let signed = 0;
    for (let i = chunks.length - 1; i >= 0; i--) {
      if (isSignatureChunk(chunks[i])) {
        signed = i + 1;
        break;
      }
    }
    return new StorageError(
      `Cannot load ${context.source}: ${message}. The readable prefix is ${signed} chunks; the stored data was left unchanged`,
      { ...context, offset, chunks: chunks.slice(0, signed), cause },
    );
  };
  if (!Number.isSafeInteger(length) || length < 0) {
    throw fail(`the stored length ${String(length)} is not a length`, 0);
  }
  let cursor = 0;
  const checker = new StreamChecker();
  for (const { offset, bytes } of pieces) {
    if (offset >= length) break;
    if (offset !== cursor) {
      throw fail(
        offset < cursor
          ? `the piece at offset ${offset} overlaps the one before it (which ends at ${cursor})`
          : `bytes ${cursor}..${offset} are missing (no piece starts at ${cursor})`,
        cursor,
      );
    }
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw fail(`the piece at offset ${offset} is not bytes`, offset);
    }
    let starts: number[];
    try {
      starts = chunkStarts(bytes, `the piece at offset ${offset}`);
    } catch (error) {
      throw fail((error as Error).message, offset, error);
    }
    for (let i = 0; i < starts.length - 1; i++) {
      const chunk = bytes.subarray(starts[i], starts[i + 1]);
      try {
        checker.push(chunk);
      } catch (error) {
        throw fail((error as Error).message, checker.length, error);
      }
      chunks.push(chunk);
    }
    cursor += bytes.length;
  }
  if (cursor !== length) {
    throw fail(
      `the stored length is ${length} but the pieces hold ${cursor} bytes`,
      cursor,
    );
  }
  if (chunks.length > 0 && !isSignatureChunk(chunks[chunks.length - 1])) {
    throw fail(
      "the stored stream does not end with a SIGNATURE chunk",
      length,
    );
  }
  return chunks;
}
