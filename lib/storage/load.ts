/**
 * Loading stored chunks into a store (runtime-neutral).
 *
 * @module
 */

import { isSignatureChunk, StreamChecker } from "./checker.ts";
import { StorageError } from "./errors.ts";

/**
 * What {@linkcode loadInto} appends to: anything with `appendChunk` (a
 * `ChunkStore`, `Streamo` or `Repo`). When `appendRange` is present too
 * (`Streamo`, `Repo`) ranges are appended all-or-nothing and readers are
 * notified once per range; a `Repo` needs it to learn where its signed
 * ranges end.
 */
export interface LoadTarget {
  /** Appends one code as a new chunk, checking its structure; returns its address. */
  appendChunk(code: Uint8Array): number;
  /** Bytes already in the target (must be 0 when present). */
  readonly byteLength?: number;
  /**
   * Appends chunks as one unit, rolling them back if one is malformed or
   * `accept` throws.
   */
  appendRange?(
    chunks: readonly Uint8Array[],
    accept?: (start: number) => void,
  ): number;
}

/** A signed range handed to a {@linkcode LoadOptions.verify} hook. */
export interface LoadRange {
  /** Stream offset of the range's first chunk. */
  offset: number;
  /** The range's chunks; the last one is a SIGNATURE chunk. */
  chunks: readonly Uint8Array[];
}

/** Options for {@linkcode loadInto}. */
export interface LoadOptions {
  /**
   * `"own"` (default): chunks this node stored after verifying them (from
   * one of its drivers); signatures are not checked again, structure is
   * (framing was checked by the driver, widths and addresses are checked
   * by the target). `"foreign"`: chunks from elsewhere (a reference node's
   * `.bin`, a backup); `verify` is required and sees every signed range.
   */
  trust?: "own" | "foreign";
  /**
   * Verifies one signed range; throw to reject it. With a target that has
   * `appendRange` it runs once the range's chunks are in place (so it can
   * read them through the target, e.g. `repo.view()`/`repo.commitAt()`),
   * and a throw rolls the range back; otherwise it runs before the range
   * is appended. Loading stops at the first rejected range: the ranges
   * before it stay loaded. This is the hook for signed-only ingest
   * (`lib/store/ingest.ts`): check that the SIGNATURE starts at the right
   * address, follows a commit record and verifies under the repo's key.
   */
  verify?: (range: LoadRange) => void;
  /** Names the chunks' origin (a file path) in error messages. */
  source?: string;
}

/** What {@linkcode loadInto} appended. */
export interface LoadResult {
  /** Stream bytes appended: the target's length afterwards. */
  byteLength: number;
  /** Chunks appended. */
  chunkCount: number;
  /** Bytes of trailing chunks with no SIGNATURE after them, not appended. */
  droppedBytes: number;
}

function signedRanges(chunks: readonly Uint8Array[]): Uint8Array[][] {
  const ranges: Uint8Array[][] = [];
  let from = 0;
  for (let i = 0; i < chunks.length; i++) {
    if (isSignatureChunk(chunks[i])) {
      ranges.push(chunks.slice(from, i + 1));
      from = i + 1;
    }
  }
  return ranges;
}

function byteSum(
  chunks: readonly Uint8Array[],
  from = 0,
  to: number = chunks.length,
): number {
  let n = 0;
  for (let i = from; i < to; i++) n += chunks[i].length;
  return n;
}

/**
 * Appends a stored stream's `chunks` (from a driver's `load`) to an empty
 * `target`, byte for byte: all signed ranges as one `appendRange` when the
 * target has it and there is no `verify` hook (one notification for
 * readers), else range by range. Chunks after the last SIGNATURE are not
 * appended (reported as `droppedBytes`).
 *
 * A `Repo` target reports the loaded bytes to its `onVerified` listeners
 * like any verified range, so attach a listener that persists ranges only
 * after loading (or skip ranges below the stored length).
 *
 * Throws a `TypeError` for a bad target or a foreign load without
 * `verify`, a `RangeError` for a non-empty target, and a
 * {@linkcode StorageError} (with `cause`) when a chunk is malformed or a
 * range is rejected: the ranges before it stay loaded and the error's
 * `streamBytes` says how many bytes that is.
 *
 * @example
 * ```ts
 * import { loadInto } from "./load.ts";
 * import { Repo, Signer } from "../mod.ts";
 * const writer = new Repo();
 * await writer.attachSigner(new Signer("alice", "pw", 1), "chat");
 * writer.set({ name: "alice" });
 * await writer.whenSigned();
 * const copy = new Repo({ key: writer.key });
 * loadInto(copy, writer.chunksBetween(0));
 * console.log(copy.get("name")); // "alice"
 * ```
 */
export function loadInto(
  target: LoadTarget,
  chunks: readonly Uint8Array[],
  options: LoadOptions = {},
): LoadResult {
  if (
    target === null || typeof target !== "object" ||
    typeof target.appendChunk !== "function"
  ) {
    throw new TypeError(
      "Cannot load chunks: the target must have an appendChunk(code) method (a ChunkStore, Streamo or Repo)",
    );
  }
  if (!Array.isArray(chunks)) {
    throw new TypeError(
      `Cannot load chunks: expected an array of Uint8Array, got ${typeof chunks}`,
    );
  }
  const trust = options.trust ?? "own";
  if (trust !== "own" && trust !== "foreign") {
    throw new TypeError(
      `Cannot load chunks: trust must be "own" or "foreign", got ${
        String(trust)
      }`,
    );
  }
  const verify = options.verify;
  if (verify !== undefined && typeof verify !== "function") {
    throw new TypeError("Cannot load chunks: verify must be a function");
  }
  if (trust === "foreign" && verify === undefined) {
    throw new TypeError(
      "Cannot load foreign chunks without a verify hook: every signed range from another node must be verified before it is stored",
    );
  }
  const before = target.byteLength;
  if (typeof before === "number" && before !== 0) {
    throw new RangeError(
      `Cannot load chunks into a target that already holds ${before} bytes: a stored stream starts at offset 0`,
    );
  }
  const source = options.source ?? "stored chunks";
  let signedCount = 0;
  for (let i = chunks.length - 1; i >= 0; i--) {
    if (chunks[i] instanceof Uint8Array && isSignatureChunk(chunks[i])) {
      signedCount = i + 1;
      break;
    }
  }
  const result: LoadResult = {
    byteLength: 0,
    chunkCount: 0,
    droppedBytes: byteSum(chunks, signedCount),
  };
  if (signedCount === 0) return result;
  const signed = signedCount === chunks.length
    ? chunks
    : chunks.slice(0, signedCount);
  const appendRange = target.appendRange?.bind(target);

  // Fast path: our own verified data, appended as one unit.
  if (appendRange && !verify) {
    try {
      appendRange(signed);
      result.byteLength = byteSum(signed);
      result.chunkCount = signed.length;
      return result;
    } catch {
      // Rolled back: go range by range below to keep the readable prefix
      // and report exactly where it fails.
    }
  }

  const checker = appendRange ? undefined : new StreamChecker();
  for (const range of signedRanges(signed)) {
    const offset = result.byteLength;
    try {
      if (appendRange) {
        appendRange(
          range,
          verify
            ? (start) => verify({ offset: start, chunks: range })
            : undefined,
        );
      } else {
        for (const chunk of range) checker!.push(chunk);
        verify?.({ offset, chunks: range });
        for (const chunk of range) target.appendChunk(chunk);
      }
    } catch (error) {
      const done = signed.slice(0, result.chunkCount);
      throw new StorageError(
        `Cannot load ${source}: the signed range at stream offset ${offset} (${range.length} chunks) was ${
          verify ? "rejected" : "malformed"
        }: ${
          (error as Error).message
        }. The ${result.byteLength} bytes before it are loaded`,
        {
          cause: error,
          source,
          offset,
          chunks: done,
          streamBytes: result.byteLength,
        },
      );
    }
    result.byteLength += byteSum(range);
    result.chunkCount += range.length;
  }
  return result;
}

/** Stream bytes in `chunks` (to pre-size a store before loading). */
export function streamLength(chunks: readonly Uint8Array[]): number {
  return byteSum(chunks);
}
