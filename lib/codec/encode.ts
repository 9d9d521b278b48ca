/**
 * Encoding values to codes (SPEC §1). Encoding appends sub-codes to the
 * store while it runs, and a multi-part code encodes its parts right to
 * left; both rules make the bytes identical to the reference's.
 *
 * @module
 */

import type { ChunkStore } from "./chunk_store.ts";
import {
  ARRAY,
  DATE,
  DUPLE,
  EMPTY_ARRAY,
  EMPTY_OBJECT,
  EMPTY_STRING,
  FALSE,
  FLOAT64,
  NULL,
  OBJECT,
  PART_OPTIONS,
  SIGNATURE,
  STRING,
  TRUE,
  UINT7,
  UINT8ARRAY,
  UNDEFINED,
  VARIABLE,
  WORD,
} from "./footers.ts";
import { Signature } from "./signature.ts";
import { uintWidth, writeUint } from "./varint.ts";

/**
 * How deep values may nest before encoding gives up (cycles end here). It
 * is kept low enough that everything encoded also decodes within the
 * engine's default call stack.
 */
export const MAX_ENCODE_DEPTH = 512;

const textEncoder = new TextEncoder();

/**
 * Places a sub-code: inline when it is not stored and no longer than the
 * address it would get, otherwise by address (appending it if absent).
 * Returns the part's bytes; they are `code` itself exactly when inline.
 */
function placePart(store: ChunkStore, code: Uint8Array): Uint8Array {
  const existing = store.lookup(code);
  if (existing === undefined) {
    const next = Math.max(0, store.byteLength + code.length - 1);
    if (code.length <= uintWidth(next)) return code;
  }
  const address = existing ?? store.appendNew(code);
  const width = uintWidth(address);
  const out = new Uint8Array(width);
  writeUint(out, 0, address, width);
  return out;
}

function optionOf(part: Uint8Array, code: Uint8Array): number {
  return part === code ? 0 : part.length;
}

/** `[part][footer]` for a one-part codec whose first footer is `base`. */
export function onePart(
  store: ChunkStore,
  base: number,
  child: Uint8Array,
): Uint8Array {
  const part = placePart(store, child);
  const out = new Uint8Array(part.length + 1);
  out.set(part);
  out[part.length] = base + optionOf(part, child);
  return out;
}

function joinDuple(
  left: Uint8Array,
  leftCode: Uint8Array,
  right: Uint8Array,
  rightCode: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(left.length + right.length + 1);
  out.set(left);
  out.set(right, left.length);
  out[out.length - 1] = DUPLE + PART_OPTIONS * optionOf(left, leftCode) +
    optionOf(right, rightCode);
  return out;
}

/**
 * A DUPLE node over two codes produced on demand, right first (the order
 * the reference appends in).
 */
export function dupleOf(
  store: ChunkStore,
  left: () => Uint8Array,
  right: () => Uint8Array,
): Uint8Array {
  const rightCode = right();
  const rightPart = placePart(store, rightCode);
  const leftCode = left();
  const leftPart = placePart(store, leftCode);
  return joinDuple(leftPart, leftCode, rightPart, rightCode);
}

/**
 * The DUPLE tree over items `lo..hi` (at least 2): two items make one node;
 * otherwise the left subtree holds the largest power of two below the count
 * and the right holds the rest (the last item itself when only one is left).
 */
export function treeOf(
  store: ChunkStore,
  item: (i: number) => Uint8Array,
  lo: number,
  hi: number,
): Uint8Array {
  const count = hi - lo;
  if (count === 2) return dupleOf(store, () => item(lo), () => item(lo + 1));
  const split = 2 ** (31 - Math.clz32(count - 1));
  return dupleOf(
    store,
    () => treeOf(store, item, lo, lo + split),
    () =>
      count - split === 1 ? item(hi - 1) : treeOf(store, item, lo + split, hi),
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

/**
 * Encodes `value` into `store`: sub-codes are appended as needed and the
 * value's own code is returned (not appended). Throws a `TypeError` for
 * values the codec has no type for (functions, symbols, bigints, class
 * instances other than `Date`, `Uint8Array` and `Signature`) and for values
 * nested deeper than {@linkcode MAX_ENCODE_DEPTH} (cycles).
 */
export function encodeValue(store: ChunkStore, value: unknown): Uint8Array {
  const e = takeEncoder(store);
  try {
    e.value(value, 0);
    return e.buf.slice(0, e.sp);
  } finally {
    releaseEncoder(e);
  }
}

// One encoder is kept for reuse; a nested call (a getter that encodes, say)
// gets a fresh one.
let spare: Encoder | undefined;

function takeEncoder(store: ChunkStore): Encoder {
  const e = spare ?? new Encoder();
  spare = undefined;
  e.store = store;
  e.sp = 0;
  e.refsLast = false;
  return e;
}

function releaseEncoder(e: Encoder): void {
  // Do not keep the memory of one huge value alive.
  if (e.buf.length > 1 << 16) e.buf = new Uint8Array(INITIAL_STACK);
  if (e.raw.length > 1 << 16) e.raw = new Uint8Array(INITIAL_STACK);
  e.store = undefined as unknown as ChunkStore;
  spare = e;
}

const INITIAL_STACK = 1024;

/**
 * Builds codes on a byte stack instead of allocating one array per code:
 * every builder pushes its code at the top; placing a part replaces the
 * code on top with its part bytes (the code itself when inline, else its
 * address). Parts are always 1..4 bytes, so a DUPLE swaps its two parts
 * (built right first) with a few byte moves.
 */
class Encoder {
  buf = new Uint8Array(INITIAL_STACK);
  sp = 0;
  /** Scratch for the UTF-8 bytes of a string and the 8 bytes of a float. */
  raw = new Uint8Array(INITIAL_STACK);
  readonly f64Bytes = new Uint8Array(8);
  readonly f64 = new DataView(this.f64Bytes.buffer);
  store!: ChunkStore;
  /**
   * True when the code just built names the stream's last chunk: then it
   * cannot be stored yet (a chunk only names chunks before it), and placing
   * it needs no lookup. Most new codes name the part appended just before.
   */
  refsLast = false;

  ensure(n: number): void {
    if (this.sp + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.sp + n) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.buf.subarray(0, this.sp));
    this.buf = buf;
  }

  /** Pushes a one-byte code. */
  push(byte: number): void {
    if (this.sp === this.buf.length) this.ensure(1);
    this.buf[this.sp++] = byte;
    this.refsLast = false;
  }

  /**
   * Replaces the code at `[start, sp)` with its part bytes and returns the
   * part's option: 0 inline, else the address width.
   */
  place(start: number): number {
    const store = this.store;
    const buf = this.buf;
    const end = this.sp;
    const n = end - start;
    let address = this.refsLast
      ? undefined
      : store.lookupRange(buf, start, end);
    if (address === undefined) {
      if (n <= 4 && n <= uintWidth(Math.max(0, store.byteLength + n - 1))) {
        return 0; // inline: the part is the code, refsLast still holds
      }
      address = store.appendNewRange(buf, start, end);
    }
    this.refsLast = address === store.byteLength - 1;
    const width = uintWidth(address);
    writeUint(buf, start, address, width);
    this.sp = start + width;
    return width;
  }

  /** `[part][base + option]` from the code on top starting at `start`. */
  onePart(base: number, start: number): void {
    const option = this.place(start);
    if (this.sp === this.buf.length) this.ensure(1);
    this.buf[this.sp++] = base + option;
  }

  /**
   * Finishes a DUPLE whose right part is at `[start, mid)` and left part at
   * `[mid, sp)`: swaps them and adds the footer.
   */
  joinDuple(
    start: number,
    mid: number,
    leftOption: number,
    rightOption: number,
  ): void {
    const buf = this.buf;
    const rightLength = mid - start;
    const leftLength = this.sp - mid;
    // Both parts are 1..4 bytes; keep the right one in a number.
    let right = 0;
    for (let i = rightLength - 1; i >= 0; i--) {
      right = right * 256 + buf[start + i];
    }
    // The left part was placed last; the right may name the last chunk too.
    if (rightOption > 0 && right === this.store.byteLength - 1) {
      this.refsLast = true;
    }
    for (let i = 0; i < leftLength; i++) buf[start + i] = buf[mid + i];
    let at = start + leftLength;
    for (let i = 0; i < rightLength; i++) {
      buf[at++] = right & 0xff;
      right = Math.floor(right / 256);
    }
    buf[at++] = DUPLE + PART_OPTIONS * leftOption + rightOption;
    this.sp = at;
  }

  value(value: unknown, depth: number): void {
    if (depth > MAX_ENCODE_DEPTH) {
      throw new TypeError(
        `Cannot encode value: it nests deeper than ${MAX_ENCODE_DEPTH} levels (is it cyclic?)`,
      );
    }
    switch (typeof value) {
      case "undefined":
        return this.push(UNDEFINED);
      case "boolean":
        return this.push(value ? TRUE : FALSE);
      case "number":
        if (value >= 0 && value < 128 && Number.isInteger(value)) {
          return this.push(UINT7 + value);
        }
        return this.float64(FLOAT64, value);
      case "string":
        return this.string(value);
      case "object": {
        if (value === null) return this.push(NULL);
        if (value instanceof Uint8Array) {
          return this.bytesCode(value, 0, value.length);
        }
        if (value instanceof Date) return this.float64(DATE, value.getTime());
        if (Array.isArray(value)) return this.array(value, depth);
        if (value instanceof Signature) return this.signature(value);
        if (isPlainObject(value)) {
          return this.object(value as Record<string, unknown>, depth);
        }
        break;
      }
    }
    throw new TypeError(
      `Cannot encode value of type ${
        describe(value)
      }: supported are undefined, null, booleans, numbers, strings, Uint8Array, Date, arrays, plain objects and Signature`,
    );
  }

  float64(base: number, n: number): void {
    this.f64.setFloat64(0, n, true);
    const start = this.sp;
    this.bytesCode(this.f64Bytes, 0, 8);
    this.onePart(base, start);
  }

  string(text: string): void {
    if (text === "") return this.push(EMPTY_STRING);
    const length = text.length;
    if (this.raw.length < length * 3) {
      this.raw = new Uint8Array(Math.max(length * 3, this.raw.length * 2));
    }
    const raw = this.raw;
    let n = 0;
    for (; n < length; n++) {
      const c = text.charCodeAt(n);
      if (c >= 0x80) break;
      raw[n] = c;
    }
    if (n < length) n = textEncoder.encodeInto(text, raw).written;
    const start = this.sp;
    this.bytesCode(raw, 0, n);
    this.onePart(STRING, start);
  }

  /** The code of `src[from, from + n)`: a WORD, or a UINT8ARRAY of words. */
  bytesCode(src: Uint8Array, from: number, n: number): void {
    if (n <= 4) return this.word(src, from, n, 0);
    const start = this.sp;
    this.words(src, from, n, 0, Math.ceil(n / 4));
    this.onePart(UINT8ARRAY, start);
  }

  /** The WORD of the `i`th (up to) 4 bytes of `src[from, from + n)`. */
  word(src: Uint8Array, from: number, n: number, i: number): void {
    const begin = from + 4 * i;
    const end = Math.min(begin + 4, from + n);
    this.ensure(5);
    const buf = this.buf;
    let at = this.sp;
    for (let j = begin; j < end; j++) buf[at++] = src[j];
    buf[at++] = WORD + end - begin;
    this.sp = at;
    this.refsLast = false;
  }

  /** The DUPLE tree over words `lo..hi` (see {@linkcode treeOf}). */
  words(src: Uint8Array, from: number, n: number, lo: number, hi: number) {
    const count = hi - lo;
    const split = 2 ** (31 - Math.clz32(count - 1));
    const start = this.sp;
    if (count - split === 1) this.word(src, from, n, hi - 1);
    else this.words(src, from, n, lo + split, hi);
    const right = this.place(start);
    const mid = this.sp;
    if (split === 1) this.word(src, from, n, lo);
    else this.words(src, from, n, lo, lo + split);
    this.joinDuple(start, mid, this.place(mid), right);
  }

  array(array: unknown[], depth: number): void {
    const length = array.length;
    if (length === 0) return this.push(EMPTY_ARRAY);
    const start = this.sp;
    if (length > 1 && Object.keys(array).length === length) {
      this.items(array, depth + 1, 0, length);
    } else {
      // One item, holes or extra keys: the object of its keys plus `length`.
      const asObject: Record<string, unknown> = Object.assign(
        {} as Record<string, unknown>,
        array,
        { length },
      );
      this.object(asObject, depth);
    }
    this.onePart(ARRAY, start);
  }

  /** The DUPLE tree over `array[lo..hi)`. */
  items(array: unknown[], depth: number, lo: number, hi: number): void {
    const count = hi - lo;
    const split = 2 ** (31 - Math.clz32(count - 1));
    const start = this.sp;
    if (count - split === 1) this.value(array[hi - 1], depth);
    else this.items(array, depth, lo + split, hi);
    const right = this.place(start);
    const mid = this.sp;
    if (split === 1) this.value(array[lo], depth);
    else this.items(array, depth, lo, lo + split);
    this.joinDuple(start, mid, this.place(mid), right);
  }

  object(object: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(object);
    if (keys.length === 0) return this.push(EMPTY_OBJECT);
    const start = this.sp;
    if (keys.length === 1) this.entry(object, keys[0], depth + 1);
    else this.entries(object, keys, depth + 1, 0, keys.length);
    this.onePart(OBJECT, start);
  }

  /** The entry duple `DUPLE(name, value)`, value first. */
  entry(object: Record<string, unknown>, key: string, depth: number): void {
    const start = this.sp;
    this.value(object[key], depth);
    const right = this.place(start);
    const mid = this.sp;
    this.value(key, depth);
    this.joinDuple(start, mid, this.place(mid), right);
  }

  /** The DUPLE tree over the entries of `keys[lo..hi)`. */
  entries(
    object: Record<string, unknown>,
    keys: string[],
    depth: number,
    lo: number,
    hi: number,
  ): void {
    const count = hi - lo;
    const split = 2 ** (31 - Math.clz32(count - 1));
    const start = this.sp;
    if (count - split === 1) this.entry(object, keys[hi - 1], depth);
    else this.entries(object, keys, depth, lo + split, hi);
    const right = this.place(start);
    const mid = this.sp;
    if (split === 1) this.entry(object, keys[lo], depth);
    else this.entries(object, keys, depth, lo, lo + split);
    this.joinDuple(start, mid, this.place(mid), right);
  }

  signature(signature: Signature): void {
    const width = uintWidth(signature.address);
    this.ensure(width + signature.bytes.length + 1);
    this.sp = writeUint(this.buf, this.sp, signature.address, width);
    this.buf.set(signature.bytes, this.sp);
    this.sp += signature.bytes.length;
    this.buf[this.sp++] = SIGNATURE + width - 1;
    this.refsLast = false;
  }
}

/** A VARIABLE box around `code`: a new chunk whose value is `code`'s value. */
export function boxCode(store: ChunkStore, code: Uint8Array): Uint8Array {
  return onePart(store, VARIABLE, code);
}
