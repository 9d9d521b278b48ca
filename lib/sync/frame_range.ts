/**
 * Builds outgoing data messages straight from a repo's bytes: several chunk
 * frames batched into one message, shared by every connection that sends
 * the same range.
 *
 * @module
 */

import { FRAME_HEADER } from "../codec/frames.ts";
import type { Repo } from "../store/repo.ts";

/** A built message and the stream offset where its last chunk ends. */
export interface FramedRange {
  /** `[prefix][u32 length][chunk]…` */
  bytes: Uint8Array<ArrayBuffer>;
  /** Stream offset just after the last chunk included. */
  end: number;
}

interface Cached extends FramedRange {
  start: number;
  limit: number;
  prefix: Uint8Array;
}

// The last message built per repo: a relay fanning one range out to many
// connections builds it once.
const lastBuilt = new WeakMap<Repo, Cached>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Bytes of chunks in `frames` if it is whole frames of 1 to `maxFrame`
 * bytes each, else -1.
 */
export function framedBytes(frames: Uint8Array, maxFrame = Infinity): number {
  let at = 0;
  let bytes = 0;
  while (at + FRAME_HEADER <= frames.length) {
    const length = (frames[at] | (frames[at + 1] << 8) |
      (frames[at + 2] << 16)) + frames[at + 3] * 0x1000000;
    if (length === 0 || length > maxFrame) return -1;
    at += FRAME_HEADER + length;
    bytes += length;
  }
  return at === frames.length ? bytes : -1;
}

/**
 * `prefix` followed by the frames of the chunks of `repo` from `start` (a
 * chunk boundary) up to `limit`, stopping before the message would exceed
 * `maxBytes` (it always holds at least one chunk).
 */
export function frameRange(
  repo: Repo,
  prefix: Uint8Array,
  start: number,
  limit: number,
  maxBytes: number,
): FramedRange {
  const cached = lastBuilt.get(repo);
  if (
    cached && cached.start === start && cached.limit === limit &&
    sameBytes(cached.prefix, prefix)
  ) {
    return cached;
  }
  // First pass: where the chunks end, up to the size limit.
  const ends: number[] = [];
  let size = prefix.length;
  let chunkStart = start;
  for (let a = start + 1; a <= limit; a++) {
    if (!repo.isChunkBoundary(a)) continue;
    const add = FRAME_HEADER + a - chunkStart;
    if (ends.length > 0 && size + add > maxBytes) break;
    size += add;
    ends.push(a);
    chunkStart = a;
  }
  // Second pass: headers and bytes, copied by hand (chunks are tiny, so a
  // view per chunk would cost more than the bytes).
  const bytes = new Uint8Array(size);
  bytes.set(prefix, 0);
  const source = repo.view(start, ends.length ? ends[ends.length - 1] : start);
  let at = prefix.length;
  let from = 0;
  for (let i = 0; i < ends.length; i++) {
    const to = ends[i] - start;
    const n = to - from;
    bytes[at] = n & 0xff;
    bytes[at + 1] = (n >>> 8) & 0xff;
    bytes[at + 2] = (n >>> 16) & 0xff;
    bytes[at + 3] = n >>> 24;
    at += FRAME_HEADER;
    for (let j = from; j < to; j++) bytes[at++] = source[j];
    from = to;
  }
  const end = ends.length ? ends[ends.length - 1] : start;
  lastBuilt.set(repo, { bytes, end, start, limit, prefix });
  return { bytes, end };
}
