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

/** How deep values may nest before encoding gives up (cycles end here). */
export const MAX_ENCODE_DEPTH = 1000;

const textEncoder = new TextEncoder();

/**
 * Places a sub-code: inline when it is not stored and no longer than the
 * address it would get, otherwise by address (appending it if absent).
 * Returns the part's bytes; they are `code` itself exactly when inline.
 */
export function placePart(store: ChunkStore, code: Uint8Array): Uint8Array {
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

/** The code of raw bytes: WORD for 0..4 bytes, else UINT8ARRAY of 4-byte words. */
export function encodeBytes(store: ChunkStore, bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n <= 4) {
    const out = new Uint8Array(n + 1);
    out.set(bytes);
    out[n] = WORD + n;
    return out;
  }
  const words = Math.ceil(n / 4);
  const word = (i: number): Uint8Array => {
    const start = 4 * i;
    const end = Math.min(start + 4, n);
    const out = new Uint8Array(end - start + 1);
    out.set(bytes.subarray(start, end));
    out[end - start] = WORD + end - start;
    return out;
  };
  return onePart(store, UINT8ARRAY, treeOf(store, word, 0, words));
}

function float64Bytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, n, true);
  return out;
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
  return encodeAt(store, value, 0);
}

function encodeAt(
  store: ChunkStore,
  value: unknown,
  depth: number,
): Uint8Array {
  if (depth > MAX_ENCODE_DEPTH) {
    throw new TypeError(
      `Cannot encode value: it nests deeper than ${MAX_ENCODE_DEPTH} levels (is it cyclic?)`,
    );
  }
  switch (typeof value) {
    case "undefined":
      return new Uint8Array([UNDEFINED]);
    case "boolean":
      return new Uint8Array([value ? TRUE : FALSE]);
    case "number":
      if (Number.isInteger(value) && value >= 0 && value < 128) {
        return new Uint8Array([UINT7 + value]);
      }
      return onePart(store, FLOAT64, encodeBytes(store, float64Bytes(value)));
    case "string":
      if (value === "") return new Uint8Array([EMPTY_STRING]);
      return onePart(
        store,
        STRING,
        encodeBytes(store, textEncoder.encode(value)),
      );
    case "object": {
      if (value === null) return new Uint8Array([NULL]);
      if (value instanceof Uint8Array) return encodeBytes(store, value);
      if (value instanceof Date) {
        return onePart(
          store,
          DATE,
          encodeBytes(store, float64Bytes(value.getTime())),
        );
      }
      if (Array.isArray(value)) return encodeArray(store, value, depth);
      if (value instanceof Signature) return encodeSignature(value);
      if (isPlainObject(value)) {
        return encodeObject(store, value as Record<string, unknown>, depth);
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

function encodeArray(
  store: ChunkStore,
  array: unknown[],
  depth: number,
): Uint8Array {
  if (array.length === 0) return new Uint8Array([EMPTY_ARRAY]);
  if (array.length > 1 && Object.keys(array).length === array.length) {
    const tree = treeOf(
      store,
      (i) => encodeAt(store, array[i], depth + 1),
      0,
      array.length,
    );
    return onePart(store, ARRAY, tree);
  }
  // One item, holes or extra keys: the object of its keys plus `length`.
  const asObject: Record<string, unknown> = Object.assign(
    {} as Record<string, unknown>,
    array,
    { length: array.length },
  );
  return onePart(store, ARRAY, encodeObject(store, asObject, depth));
}

function encodeObject(
  store: ChunkStore,
  object: Record<string, unknown>,
  depth: number,
): Uint8Array {
  const keys = Object.keys(object);
  if (keys.length === 0) return new Uint8Array([EMPTY_OBJECT]);
  const entry = (i: number): Uint8Array =>
    dupleOf(
      store,
      () => encodeAt(store, keys[i], depth + 1),
      () => encodeAt(store, object[keys[i]], depth + 1),
    );
  const tree = keys.length === 1
    ? entry(0)
    : treeOf(store, entry, 0, keys.length);
  return onePart(store, OBJECT, tree);
}

function encodeSignature(signature: Signature): Uint8Array {
  const width = uintWidth(signature.address);
  const out = new Uint8Array(width + signature.bytes.length + 1);
  writeUint(out, 0, signature.address, width);
  out.set(signature.bytes, width);
  out[out.length - 1] = SIGNATURE + width - 1;
  return out;
}

/** A VARIABLE box around `code`: a new chunk whose value is `code`'s value. */
export function boxCode(store: ChunkStore, code: Uint8Array): Uint8Array {
  return onePart(store, VARIABLE, code);
}
