/**
 * The append-only, content-addressed byte stream under every Streamo.
 *
 * @module
 */

import { codeWidth, MAX_CHUNK_LENGTH } from "./width.ts";

const EMPTY_SLOT = 0;
// Offsets of the virtual-address ranges of inline codes of 1..4 bytes.
const VIRTUAL_OFFSET = [0, 0, 0x100, 0x10100, 0x1010100, 0x101010100];

/**
 * The address an inline (unstored) code of 1..4 bytes stands for: a negative
 * number, `-(footer + 1)` for 1-byte codes as in the reference, so that every
 * part of a value has a ref whether or not it is stored.
 */
export function virtualAddress(code: Uint8Array): number {
  const n = code.length;
  if (n < 1 || n > 4) {
    throw new RangeError(
      `Cannot make a virtual address for a ${n}-byte code: only codes of 1..4 bytes are stored inline`,
    );
  }
  let value = 0;
  for (let i = n - 1; i >= 0; i--) value = value * 256 + code[i];
  return -(1 + VIRTUAL_OFFSET[n] + value);
}

/** The inline code a negative (virtual) address stands for. */
export function virtualCode(address: number): Uint8Array {
  const n = -address - 1;
  if (!Number.isSafeInteger(n) || n < 0 || n >= VIRTUAL_OFFSET[5]) {
    throw new RangeError(`Cannot resolve address ${address}: not a valid ref`);
  }
  let width = 1;
  while (n >= VIRTUAL_OFFSET[width + 1]) width++;
  let value = n - VIRTUAL_OFFSET[width];
  const code = new Uint8Array(width);
  for (let i = 0; i < width; i++) {
    code[i] = value % 256;
    value = Math.floor(value / 256);
  }
  return code;
}

/** FNV-1a over `buf[start, end)`, finished with a murmur3 mix, as an int32. */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

// The content index is an open-addressing table of (address + 1, hash)
// pairs, so that probing compares hashes and touches the stream's bytes only
// for a likely match; it is kept at most MAX_LOAD full.
const MAX_LOAD = 0.7;

/**
 * An append-only byte stream of chunks. A chunk is one code; its address is
 * the offset of its last byte. Appending a code already present returns the
 * existing address. Every appended chunk is checked: its length must equal
 * the width its footer implies, and every address inside it must name the
 * last byte of an earlier chunk.
 *
 * The content index behind {@linkcode ChunkStore.addressOf} is built on first
 * use, so a store that only receives and serves bytes never pays for it.
 */
export class ChunkStore {
  #bytes: Uint8Array;
  #length = 0;
  #ends: Uint8Array;
  #chunkCount = 0;
  #index: Int32Array | undefined;
  #indexed = 0;

  // Where the chunk #checkCode is checking starts, for #checkAddress.
  #checkedStart = 0;

  // One function for every check, so that checking allocates nothing.
  readonly #checkAddress = (address: number): void => {
    const chunkStart = this.#checkedStart;
    if (address >= chunkStart) {
      throw new RangeError(
        `Cannot append chunk at ${chunkStart}: it references address ${address}, which is not before the chunk`,
      );
    }
    if (!this.isChunkEnd(address)) {
      throw new RangeError(
        `Cannot append chunk at ${chunkStart}: it references address ${address}, which is inside a chunk, not a chunk's last byte`,
      );
    }
  };

  /** Creates an empty store; `capacity` pre-sizes the byte buffer. */
  constructor(capacity = 256) {
    this.#bytes = new Uint8Array(Math.max(16, capacity));
    this.#ends = new Uint8Array((this.#bytes.length + 7) >> 3);
  }

  /** Number of bytes in the stream. */
  get byteLength(): number {
    return this.#length;
  }

  /** Number of chunks in the stream. */
  get chunkCount(): number {
    return this.#chunkCount;
  }

  /** True when a chunk ends at `address`. */
  isChunkEnd(address: number): boolean {
    return address >= 0 && address < this.#length &&
      (this.#ends[address >> 3] & (1 << (address & 7))) !== 0;
  }

  /**
   * Address of a stored chunk equal to `code`, or `undefined`. Negative
   * (virtual) addresses are never returned.
   */
  addressOf(code: Uint8Array): number | undefined {
    if (!(code instanceof Uint8Array) || code.length === 0) return undefined;
    if (code.length > MAX_CHUNK_LENGTH) return undefined;
    try {
      if (codeWidth(code, code.length - 1) !== code.length) return undefined;
    } catch {
      return undefined;
    }
    return this.lookup(code);
  }

  /** Index lookup of a code known to be well-formed. @internal */
  lookup(code: Uint8Array): number | undefined {
    return this.lookupRange(code, 0, code.length);
  }

  /**
   * Index lookup of the well-formed code `buf[from, to)`, so that callers
   * building codes in a scratch buffer need not copy them out. @internal
   */
  lookupRange(buf: Uint8Array, from: number, to: number): number | undefined {
    const index = this.#index ?? this.#buildIndex();
    const mask = index.length - 2;
    const n = to - from;
    const bytes = this.#bytes;
    const hash = hashBytes(buf, from, to);
    let slot = (hash << 1) & mask;
    for (;;) {
      const entry = index[slot];
      if (entry === EMPTY_SLOT) return undefined;
      if (index[slot + 1] === hash) {
        const address = entry - 1;
        const start = address - n + 1;
        let i = 0;
        if (start >= 0) {
          while (i < n && bytes[start + i] === buf[from + i]) i++;
        }
        // The chunk ending here is exactly this code: parsing its width from
        // the footer reads the same n bytes that make `buf`'s code n wide.
        if (i === n) return address;
      }
      slot = (slot + 2) & mask;
    }
  }

  /**
   * Appends `code` unless an equal chunk is stored, and returns its address.
   * Throws a `SyntaxError`/`RangeError` if `code` is not one well-formed code
   * or references something other than an earlier chunk.
   */
  append(code: Uint8Array): number {
    this.#check(code);
    return this.lookup(code) ?? this.#push(code, 0, code.length);
  }

  /**
   * Appends `code` as a new chunk even if an equal chunk is stored (used to
   * copy a foreign stream byte for byte). Same checks as `append`.
   */
  appendChunk(code: Uint8Array): number {
    this.#check(code);
    return this.#push(code, 0, code.length);
  }

  /**
   * Appends the chunks of `bytes[0, ends[ends.length - 1])` byte for byte,
   * where `ends` are the exclusive end offsets of the chunks within `bytes`
   * (increasing). Same checks as `appendChunk`; if any chunk fails, nothing
   * is appended and the error is thrown. Returns the first chunk's offset.
   */
  appendSpan(bytes: Uint8Array, ends: ArrayLike<number>): number {
    const start = this.#length;
    const total = ends.length === 0 ? 0 : ends[ends.length - 1];
    if (total > bytes.length) {
      throw new RangeError(
        `Cannot append span: its chunks end at ${total}, past its ${bytes.length} bytes`,
      );
    }
    if (start + total > this.#bytes.length) this.#grow(start + total);
    const buf = this.#bytes;
    buf.set(bytes.subarray(0, total), start);
    let chunkStart = start;
    let previous = 0;
    const index = this.#index;
    try {
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i];
        const length = end - previous;
        if (length <= 0 || length > MAX_CHUNK_LENGTH) {
          throw new RangeError(
            `Cannot append chunk at ${chunkStart}: ${length} bytes is not a chunk length`,
          );
        }
        const address = start + end - 1;
        this.#checkCode(buf, address, chunkStart, chunkStart);
        this.#ends[address >> 3] |= 1 << (address & 7);
        this.#length = address + 1;
        this.#chunkCount++;
        if (index) this.#insert(address, chunkStart, length);
        chunkStart = address + 1;
        previous = end;
      }
    } catch (error) {
      this.truncate(start);
      throw error;
    }
    return start;
  }

  /** Appends a code the encoder built and knows to be absent. @internal */
  appendNew(code: Uint8Array): number {
    return this.#push(code, 0, code.length);
  }

  /** Like `appendNew` for the code `buf[from, to)`. @internal */
  appendNewRange(buf: Uint8Array, from: number, to: number): number {
    return this.#push(buf, from, to);
  }

  /**
   * The code of the chunk at `address` (a view; do not modify). A negative
   * address resolves to the inline code it stands for. Throws a `RangeError`
   * for an address past the end or inside a chunk.
   */
  resolve(address: number): Uint8Array {
    if (address < 0) return virtualCode(address);
    if (!Number.isSafeInteger(address) || !this.isChunkEnd(address)) {
      throw new RangeError(
        address >= this.#length || !Number.isSafeInteger(address)
          ? `Cannot resolve address ${address}: the stream is ${this.#length} bytes long`
          : `Cannot resolve address ${address}: it points into the middle of a chunk, not at a chunk's last byte`,
      );
    }
    const width = codeWidth(this.#bytes, address);
    return this.#bytes.subarray(address - width + 1, address + 1);
  }

  /** First byte of the chunk ending at `address`. */
  chunkStart(address: number): number {
    return address - this.resolve(address).length + 1;
  }

  /** A copy of the stream's bytes in `[start, end)`. */
  slice(start = 0, end: number = this.#length): Uint8Array {
    return this.#bytes.slice(
      Math.max(0, start),
      Math.min(end, this.#length),
    );
  }

  /** A read-only view of the stream's bytes in `[start, end)`. @internal */
  view(start = 0, end: number = this.#length): Uint8Array {
    return this.#bytes.subarray(start, Math.min(end, this.#length));
  }

  /** The underlying buffer (valid up to `byteLength`). @internal */
  get buffer(): Uint8Array {
    return this.#bytes;
  }

  /**
   * A new store holding this stream's first `byteLength` bytes, which must
   * end on a chunk boundary.
   */
  prefix(byteLength: number = this.#length): ChunkStore {
    if (!this.#isBoundary(byteLength)) {
      throw new RangeError(
        `Cannot copy the first ${byteLength} bytes: that is not a chunk boundary of this ${this.#length}-byte stream`,
      );
    }
    const copy = new ChunkStore(byteLength);
    copy.#bytes.set(this.#bytes.subarray(0, byteLength));
    copy.#length = byteLength;
    const fullBytes = byteLength >> 3;
    copy.#ends.set(this.#ends.subarray(0, fullBytes));
    for (let a = fullBytes << 3; a < byteLength; a++) {
      if (this.isChunkEnd(a)) copy.#ends[a >> 3] |= 1 << (a & 7);
    }
    let count = 0;
    for (let i = 0; i < copy.#ends.length; i++) {
      let b = copy.#ends[i];
      while (b) {
        b &= b - 1;
        count++;
      }
    }
    copy.#chunkCount = count;
    return copy;
  }

  /**
   * Drops every chunk after the first `byteLength` bytes (a chunk
   * boundary). Only for bytes no reader has seen: ingest uses it to undo a
   * range that failed verification. @internal
   */
  truncate(byteLength: number): void {
    if (byteLength === this.#length) return;
    if (!this.#isBoundary(byteLength)) {
      throw new RangeError(
        `Cannot truncate to ${byteLength} bytes: not a chunk boundary of this ${this.#length}-byte stream`,
      );
    }
    for (let a = byteLength; a < this.#length; a++) {
      const bit = 1 << (a & 7);
      if (this.#ends[a >> 3] & bit) {
        this.#ends[a >> 3] &= ~bit;
        this.#chunkCount--;
      }
    }
    this.#bytes.fill(0, byteLength, this.#length);
    this.#length = byteLength;
    // Rebuilt on the next lookup, without the dropped chunks.
    this.#index = undefined;
  }

  /** Address of the last chunk ending at or before `address`, or -1. */
  lastChunkAtOrBefore(address: number): number {
    for (let a = Math.min(address, this.#length - 1); a >= 0; a--) {
      if (this.isChunkEnd(a)) return a;
    }
    return -1;
  }

  /** True when the first `byteLength` bytes of the stream are whole chunks. */
  #isBoundary(byteLength: number): boolean {
    return Number.isSafeInteger(byteLength) && byteLength >= 0 &&
      byteLength <= this.#length &&
      (byteLength === 0 || this.isChunkEnd(byteLength - 1));
  }

  /** Throws unless `code` is one well-formed code whose addresses name earlier chunks. */
  #check(code: Uint8Array): void {
    if (!(code instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot append chunk: expected a Uint8Array, got ${typeof code}`,
      );
    }
    if (code.length === 0) {
      throw new RangeError("Cannot append chunk: it is empty");
    }
    if (code.length > MAX_CHUNK_LENGTH) {
      throw new RangeError(
        `Cannot append chunk: ${code.length} bytes is longer than any code (max ${MAX_CHUNK_LENGTH})`,
      );
    }
    this.#checkCode(code, code.length - 1, 0, this.#length);
  }

  /**
   * Throws unless `buf[from, end]` is one well-formed code whose addresses
   * name chunks before `chunkStart`, where it is (to be) appended.
   */
  #checkCode(
    buf: Uint8Array,
    end: number,
    from: number,
    chunkStart: number,
  ): void {
    this.#checkedStart = chunkStart;
    const width = codeWidth(buf, end, from, this.#checkAddress);
    const length = end - from + 1;
    if (width !== length) {
      throw new SyntaxError(
        `Cannot append chunk at ${chunkStart}: its footer says ${width} bytes but it has ${length}`,
      );
    }
  }

  #push(code: Uint8Array, from: number, to: number): number {
    const n = to - from;
    const start = this.#length;
    const end = start + n;
    if (end > this.#bytes.length) this.#grow(end);
    const bytes = this.#bytes;
    for (let i = 0; i < n; i++) bytes[start + i] = code[from + i];
    this.#length = end;
    const address = end - 1;
    this.#ends[address >> 3] |= 1 << (address & 7);
    this.#chunkCount++;
    if (this.#index) this.#insert(address, start, n);
    return address;
  }

  #grow(needed: number): void {
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = bytes;
    const ends = new Uint8Array((capacity + 7) >> 3);
    ends.set(this.#ends);
    this.#ends = ends;
  }

  #insert(address: number, start: number, n: number): void {
    let index = this.#index!;
    if ((this.#indexed + 1) * 2 > index.length * MAX_LOAD) {
      index = this.#rehash(index.length * 2);
    }
    const mask = index.length - 2;
    const bytes = this.#bytes;
    const hash = hashBytes(bytes, start, start + n);
    let slot = (hash << 1) & mask;
    for (;;) {
      const entry = index[slot];
      if (entry === EMPTY_SLOT) break;
      // Keep the first address of a duplicate chunk.
      if (index[slot + 1] === hash) {
        const otherStart = entry - 1 - n + 1;
        let i = 0;
        if (otherStart >= 0) {
          while (i < n && bytes[otherStart + i] === bytes[start + i]) i++;
        }
        if (
          i === n && (otherStart === 0 || this.isChunkEnd(otherStart - 1))
        ) return;
      }
      slot = (slot + 2) & mask;
    }
    index[slot] = address + 1;
    index[slot + 1] = hash;
    this.#indexed++;
  }

  /** A table of `length` int32s (two per slot) holding the current entries. */
  #rehash(length: number): Int32Array {
    const old = this.#index;
    const index = new Int32Array(length);
    const mask = length - 2;
    if (old) {
      // Entries are distinct already: place them without comparing bytes.
      for (let i = 0; i < old.length; i += 2) {
        const entry = old[i];
        if (entry === EMPTY_SLOT) continue;
        const hash = old[i + 1];
        let slot = (hash << 1) & mask;
        while (index[slot] !== EMPTY_SLOT) slot = (slot + 2) & mask;
        index[slot] = entry;
        index[slot + 1] = hash;
      }
    }
    this.#index = index;
    return index;
  }

  #buildIndex(): Int32Array {
    let length = 32;
    while (length * MAX_LOAD < (this.#chunkCount + 1) * 2) length *= 2;
    this.#index = new Int32Array(length);
    this.#indexed = 0;
    let start = 0;
    for (let address = 0; address < this.#length; address++) {
      if (this.isChunkEnd(address)) {
        this.#insert(address, start, address - start + 1);
        start = address + 1;
      }
    }
    return this.#index;
  }
}
