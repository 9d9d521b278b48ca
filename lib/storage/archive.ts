/**
 * The archive format: a repo's stream as a sequence of chunk frames
 * `[u32 little-endian length][chunk]` (SPEC §5), the layout of the
 * reference's `<key>.bin` files. Runtime-neutral: this module parses and
 * classifies archive bytes; drivers do the I/O.
 *
 * @module
 */

import { FRAME_HEADER } from "../codec/frames.ts";
import { MAX_CHUNK_LENGTH, SIGNATURE_BYTES } from "../codec/width.ts";
import { SIGNATURE } from "../codec/footers.ts";
import { isSignatureChunk, StreamChecker } from "./checker.ts";
import { StorageError } from "./errors.ts";

export { encodeFrames as encodeArchive } from "../codec/frames.ts";

/** Options for {@linkcode parseArchive}. */
export interface ParseArchiveOptions {
  /** Names the archive in messages (a file path). */
  source?: string;
  /** The repo key, for errors. */
  key?: string;
  /**
   * Longest frame accepted (default {@linkcode MAX_CHUNK_LENGTH}: one frame
   * holds one chunk, and no chunk is longer).
   */
  maxFrameLength?: number;
}

/** A torn tail: bytes after the last complete signed range. */
export interface ArchiveTail {
  /** Bytes after `validBytes`. */
  droppedBytes: number;
  /** What they were. */
  reason: string;
}

/** What {@linkcode parseArchive} found. */
export interface ArchiveScan {
  /**
   * Chunks up to and including the last SIGNATURE chunk before any damage
   * (views into the parsed bytes).
   */
  chunks: Uint8Array[];
  /** Archive bytes holding `chunks`: the prefix to keep. */
  validBytes: number;
  /** Stream bytes in `chunks`. */
  streamBytes: number;
  /**
   * Set when the archive ends in a torn tail — a partial frame, chunks with
   * no SIGNATURE after them, or damaged bytes with no complete SIGNATURE
   * frame after them — which a driver may cut back to `validBytes`.
   */
  tail?: ArchiveTail;
  /**
   * Set when a frame inside signed data is damaged (a complete SIGNATURE
   * frame follows the damage, so this is not a torn write). `chunks` is
   * then the readable prefix before it; nothing after it is usable.
   */
  error?: StorageError;
}

/**
 * Where a complete SIGNATURE frame starts at or after `from`, or -1. A
 * SIGNATURE chunk is 66..69 bytes (1 + address bytes + 64) with footer
 * 158..161, the only codes that long, so the pattern `[L,0,0,0] … footer`
 * with footer = 158 + L - 66 marks one.
 */
function findSignatureFrame(bytes: Uint8Array, from: number): number {
  const base = 2 + SIGNATURE_BYTES; // footer byte + one address byte + 64
  for (let at = Math.max(0, from); at + FRAME_HEADER < bytes.length; at++) {
    const length = bytes[at];
    if (length < base || length > base + 3) continue;
    if (bytes[at + 1] !== 0 || bytes[at + 2] !== 0 || bytes[at + 3] !== 0) {
      continue;
    }
    const last = at + FRAME_HEADER + length - 1;
    if (last < bytes.length && bytes[last] === SIGNATURE + length - base) {
      return at;
    }
  }
  return -1;
}

/**
 * Parses archive bytes into chunks and classifies what follows the last
 * signed range. Every chunk is checked (footer width = frame length,
 * addresses name earlier chunk ends).
 *
 * - Clean: `chunks` is everything, ending with a SIGNATURE.
 * - `tail`: the archive ends in a partial frame, in chunks no SIGNATURE
 *   follows, or in damaged bytes after which no complete SIGNATURE frame
 *   exists — what an interrupted append (or a filesystem that extended the
 *   file before writing it) leaves. Safe to cut back to `validBytes`.
 * - `error`: a frame of length 0 or above the limit, a chunk whose footer
 *   width is not its length, or an address outside/into a chunk, with a
 *   complete SIGNATURE frame after it: damage inside signed data. The error
 *   names the source and byte offset; `chunks` is the readable prefix.
 *
 * @example
 * ```ts
 * import { parseArchive } from "./archive.ts";
 * const scan = parseArchive(new Uint8Array([1, 0, 0, 0, 0x15, 1, 0]));
 * console.log(scan.chunks.length, scan.tail?.droppedBytes); // 0 7
 * ```
 */
export function parseArchive(
  bytes: Uint8Array,
  options: ParseArchiveOptions = {},
): ArchiveScan {
  const source = options.source ?? "archive";
  const max = options.maxFrameLength ?? MAX_CHUNK_LENGTH;
  const checker = new StreamChecker();
  const chunks: Uint8Array[] = [];
  const n = bytes.length;
  let at = 0;
  let signedAt = 0;
  let signedChunks = 0;
  let signedStream = 0;
  let problem: { at: number; reason: string } | undefined;
  while (at < n) {
    if (n - at < FRAME_HEADER) {
      problem = {
        at,
        reason: `partial frame header (${n - at} of ${FRAME_HEADER} bytes)`,
      };
      break;
    }
    const length = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)) +
      bytes[at + 3] * 0x1000000;
    if (length === 0) {
      problem = { at, reason: "frame length 0" };
      break;
    }
    if (length > max) {
      problem = {
        at,
        reason: `frame length ${length} is above the limit of ${max}`,
      };
      break;
    }
    const end = at + FRAME_HEADER + length;
    if (end > n) {
      problem = {
        at,
        reason: `partial frame (header says ${length} bytes, ${
          n - at - FRAME_HEADER
        } follow)`,
      };
      break;
    }
    const chunk = bytes.subarray(at + FRAME_HEADER, end);
    try {
      checker.push(chunk);
    } catch (error) {
      problem = { at, reason: (error as Error).message };
      break;
    }
    chunks.push(chunk);
    at = end;
    if (isSignatureChunk(chunk)) {
      signedAt = at;
      signedChunks = chunks.length;
      signedStream = checker.length;
    }
  }
  chunks.length = signedChunks;
  const scan: ArchiveScan = {
    chunks,
    validBytes: signedAt,
    streamBytes: signedStream,
  };
  if (problem === undefined) {
    if (signedAt < n) {
      scan.tail = {
        droppedBytes: n - signedAt,
        reason: `${n - signedAt} bytes of chunks with no SIGNATURE after them`,
      };
    }
    return scan;
  }
  const where = `frame at byte ${problem.at}`;
  if (findSignatureFrame(bytes, problem.at) >= 0) {
    scan.error = new StorageError(
      `Cannot load ${source}: ${where}: ${problem.reason}. A signed range follows it, so this is damage inside stored data, not a torn tail; the first ${signedAt} bytes (${signedChunks} chunks, up to the last SIGNATURE before it) are readable and the data was left unchanged`,
      {
        key: options.key,
        source,
        offset: problem.at,
        chunks,
        validBytes: signedAt,
        streamBytes: signedStream,
      },
    );
    return scan;
  }
  scan.tail = {
    droppedBytes: n - signedAt,
    reason: problem.at === signedAt
      ? `${where}: ${problem.reason}`
      : `${where}: ${problem.reason}, after ${
        problem.at - signedAt
      } bytes of chunks with no SIGNATURE`,
  };
  return scan;
}
