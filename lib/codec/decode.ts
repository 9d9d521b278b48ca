/**
 * Decoding codes back to values, and walking values by ref without decoding
 * them whole.
 *
 * A *ref* names a code: an address (the last byte of a stored chunk), a
 * negative virtual address standing for an inline code of 1..4 bytes (see
 * {@linkcode virtualAddress}), or — only for the longer inline codes foreign
 * writers may produce — the offset of that code's last byte inside its chunk.
 *
 * @module
 */

import { type ChunkStore, virtualAddress, virtualCode } from "./chunk_store.ts";
import {
  ARRAY,
  DATE,
  DUPLE,
  EMPTY_ARRAY,
  EMPTY_OBJECT,
  EMPTY_STRING,
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
  UNUSED,
  VARIABLE,
  WORD,
} from "./footers.ts";
import { Signature } from "./signature.ts";
import { readUint } from "./varint.ts";
import { codeWidth, SIGNATURE_BYTES } from "./width.ts";

/** Most codes one `decode` may visit; shared subtrees count every time. */
export const MAX_DECODE_NODES = 1 << 24;
/** Deepest nesting (values and tree levels together) `decode` follows. */
export const MAX_DECODE_DEPTH = 2048;

const textDecoder = new TextDecoder();

/** Where a code lies: its buffer and the offset of its footer. */
interface Cursor {
  buf: Uint8Array;
  end: number;
  /** True when the code was reached through an address part. */
  stored: boolean;
}

class Reader {
  readonly store: ChunkStore;
  readonly sbuf: Uint8Array;
  budget = MAX_DECODE_NODES;
  depth = 0;
  constructor(store: ChunkStore) {
    this.store = store;
    this.sbuf = store.buffer;
  }

  /** The sub-code of a part ending at `partEnd` with `option`. */
  part(buf: Uint8Array, partEnd: number, option: number): Cursor {
    if (option === 0) return { buf, end: partEnd, stored: false };
    const address = readUint(buf, partEnd - option + 1, option);
    return { buf: this.sbuf, end: address, stored: true };
  }

  /** The one part of a one-part code (STRING, ARRAY, OBJECT, ...). */
  onlyPart(buf: Uint8Array, end: number, base: number): Cursor {
    return this.part(buf, end - 1, buf[end] - base);
  }

  /** Left and right parts of the DUPLE ending at `end`. */
  dupleParts(buf: Uint8Array, end: number): [Cursor, Cursor] {
    const option = buf[end] - DUPLE;
    const rightOption = option % PART_OPTIONS;
    const rightWidth = rightOption === 0
      ? codeWidth(buf, end - 1)
      : rightOption;
    return [
      this.part(buf, end - 1 - rightWidth, Math.floor(option / PART_OPTIONS)),
      this.part(buf, end - 1, rightOption),
    ];
  }

  enter(): void {
    if (--this.budget < 0) {
      throw new RangeError(
        `Cannot decode: the value has more than ${MAX_DECODE_NODES} parts`,
      );
    }
    if (++this.depth > MAX_DECODE_DEPTH) {
      throw new RangeError(
        `Cannot decode: the value nests deeper than ${MAX_DECODE_DEPTH} levels`,
      );
    }
  }

  value(at: Cursor): unknown {
    this.enter();
    try {
      return this.#value(at.buf, at.end);
    } finally {
      this.depth--;
    }
  }

  #value(buf: Uint8Array, end: number): unknown {
    const f = buf[end];
    if (f === UNDEFINED) return undefined;
    if (f === NULL) return null;
    if (f < WORD) return f === TRUE;
    if (f < UINT8ARRAY) return buf.slice(end - (f - WORD), end);
    if (f < EMPTY_STRING) return this.bytes({ buf, end, stored: false });
    if (f === EMPTY_STRING) return "";
    if (f < UINT7) {
      return textDecoder.decode(this.bytes(this.onlyPart(buf, end, STRING)));
    }
    if (f < FLOAT64) return f - UINT7;
    if (f < DATE) {
      return this.float64(this.onlyPart(buf, end, FLOAT64), "FLOAT64");
    }
    if (f < SIGNATURE) {
      return new Date(this.float64(this.onlyPart(buf, end, DATE), "DATE"));
    }
    if (f < DUPLE) {
      const width = f - SIGNATURE + 1;
      const start = end - SIGNATURE_BYTES - width;
      return new Signature(
        readUint(buf, start, width),
        buf.slice(end - SIGNATURE_BYTES, end),
      );
    }
    if (f < EMPTY_ARRAY) {
      throw new SyntaxError(
        `Cannot decode code ending at ${end}: a DUPLE is an internal tree node, not a value`,
      );
    }
    if (f === EMPTY_ARRAY) return [];
    if (f < EMPTY_OBJECT) return this.array(this.onlyPart(buf, end, ARRAY));
    if (f === EMPTY_OBJECT) return {};
    if (f < VARIABLE) return this.object(this.onlyPart(buf, end, OBJECT));
    if (f < UNUSED) return this.value(this.onlyPart(buf, end, VARIABLE));
    throw new SyntaxError(
      `Cannot decode code ending at ${end}: footer ${f} names no codec`,
    );
  }

  /** Bytes of a WORD or UINT8ARRAY code. */
  bytes(at: Cursor): Uint8Array {
    const f = at.buf[at.end];
    if (f >= WORD && f < UINT8ARRAY) {
      return at.buf.slice(at.end - (f - WORD), at.end);
    }
    if (f < UINT8ARRAY || f >= EMPTY_STRING) {
      throw new SyntaxError(
        `Cannot decode bytes at ${at.end}: expected a WORD or UINT8ARRAY code, found footer ${f}`,
      );
    }
    const words: Uint8Array[] = [];
    let total = 0;
    this.leaves(this.onlyPart(at.buf, at.end, UINT8ARRAY), (leaf) => {
      const lf = leaf.buf[leaf.end];
      if (lf < WORD || lf >= UINT8ARRAY) {
        throw new SyntaxError(
          `Cannot decode bytes at ${at.end}: a leaf of its tree has footer ${lf}, not a WORD`,
        );
      }
      const word = leaf.buf.subarray(leaf.end - (lf - WORD), leaf.end);
      words.push(word);
      total += word.length;
    }, "UINT8ARRAY");
    const out = new Uint8Array(total);
    let offset = 0;
    for (const word of words) {
      out.set(word, offset);
      offset += word.length;
    }
    return out;
  }

  float64(at: Cursor, codec: string): number {
    const bytes = this.bytes(at);
    if (bytes.length !== 8) {
      throw new SyntaxError(
        `Cannot decode ${codec} at ${at.end}: expected 8 bytes, found ${bytes.length}`,
      );
    }
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
  }

  /** Visits the leaves of the DUPLE tree at `at`, left to right. */
  leaves(at: Cursor, visit: (leaf: Cursor) => void, codec: string): void {
    if (at.buf[at.end] < DUPLE || at.buf[at.end] >= EMPTY_ARRAY) {
      throw new SyntaxError(
        `Cannot decode ${codec} at ${at.end}: expected a DUPLE tree, found footer ${
          at.buf[at.end]
        }`,
      );
    }
    this.enter();
    try {
      for (const child of this.dupleParts(at.buf, at.end)) {
        const f = child.buf[child.end];
        if (f >= DUPLE && f < EMPTY_ARRAY) this.leaves(child, visit, codec);
        else visit(child);
      }
    } finally {
      this.depth--;
    }
  }

  /** Visits the `[name, value]` entry duples of the OBJECT tree at `at`. */
  entries(at: Cursor, visit: (name: Cursor, value: Cursor) => void): void {
    const f = at.buf[at.end];
    if (f < DUPLE || f >= EMPTY_ARRAY) {
      throw new SyntaxError(
        `Cannot decode OBJECT at ${at.end}: expected a DUPLE tree of entries, found footer ${f}`,
      );
    }
    this.enter();
    try {
      const [left, right] = this.dupleParts(at.buf, at.end);
      const leftIsNode = isDuple(left);
      const rightIsNode = isDuple(right);
      if (!leftIsNode && !rightIsNode) visit(left, right);
      else if (leftIsNode && rightIsNode) {
        this.entries(left, visit);
        this.entries(right, visit);
      } else {
        throw new SyntaxError(
          `Cannot decode OBJECT at ${at.end}: a tree node mixes an entry and a subtree`,
        );
      }
    } finally {
      this.depth--;
    }
  }

  name(at: Cursor): string {
    const name = this.value(at);
    if (typeof name !== "string") {
      throw new SyntaxError(
        `Cannot decode OBJECT: an entry's name at ${at.end} is a ${typeof name}, not a string`,
      );
    }
    return name;
  }

  object(at: Cursor): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.entries(at, (name, value) => {
      setOwn(out, this.name(name), this.value(value));
    });
    return out;
  }

  array(at: Cursor): unknown[] {
    const f = at.buf[at.end];
    if (f >= DUPLE && f < EMPTY_ARRAY) {
      const items: unknown[] = [];
      this.leaves(at, (leaf) => items.push(this.value(leaf)), "ARRAY");
      return items;
    }
    if (f === EMPTY_OBJECT || (f >= OBJECT && f < VARIABLE)) {
      return toArray(this.value(at) as Record<string, unknown>, at.end);
    }
    throw new SyntaxError(
      `Cannot decode ARRAY at ${at.end}: expected a DUPLE tree or an OBJECT, found footer ${f}`,
    );
  }

  /** The ref a cursor stands for. */
  ref(at: Cursor): number {
    if (at.stored) return at.end;
    const width = codeWidth(at.buf, at.end);
    if (width <= 4) {
      return virtualAddress(at.buf.subarray(at.end - width + 1, at.end + 1));
    }
    if (at.buf !== this.sbuf) {
      throw new RangeError(`Cannot make a ref for a ${width}-byte inline code`);
    }
    return at.end;
  }

  cursor(ref: number): Cursor {
    if (ref < 0) {
      const code = virtualCode(ref);
      return { buf: code, end: code.length - 1, stored: false };
    }
    if (!Number.isSafeInteger(ref) || ref >= this.store.byteLength) {
      throw new RangeError(
        `Cannot resolve ref ${ref}: the stream is ${this.store.byteLength} bytes long`,
      );
    }
    return { buf: this.sbuf, end: ref, stored: this.store.isChunkEnd(ref) };
  }
}

function isDuple(at: Cursor): boolean {
  const f = at.buf[at.end];
  return f >= DUPLE && f < EMPTY_ARRAY;
}

/** Sets an own enumerable property, `__proto__` included. */
export function setOwn<T>(
  out: Record<string, T>,
  key: string,
  value: T,
): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else out[key] = value;
}

function toArray(object: Record<string, unknown>, end: number): unknown[] {
  const length = object.length;
  if (
    typeof length !== "number" || !Number.isInteger(length) || length < 0 ||
    length > 0xffffffff
  ) {
    throw new SyntaxError(
      `Cannot decode ARRAY at ${end}: its length ${
        String(length)
      } is not a valid array length`,
    );
  }
  const out: unknown[] = [];
  for (const key of Object.keys(object)) {
    if (key !== "length") {
      (out as unknown as Record<string, unknown>)[key] = object[key];
    }
  }
  out.length = length;
  return out;
}

/**
 * Decodes a standalone code against `store` (which holds the chunks its
 * addresses name). Throws a `SyntaxError` or `RangeError` saying what is
 * wrong for a truncated or overlong code, an unknown footer, an address
 * past the end or inside a chunk, or a malformed structure.
 */
export function decodeCode(store: ChunkStore, code: Uint8Array): unknown {
  if (!(code instanceof Uint8Array) || code.length === 0) {
    throw new RangeError("Cannot decode: the code is empty");
  }
  const limit = store.byteLength;
  const width = codeWidth(code, code.length - 1, 0, (address) => {
    if (address >= limit) {
      throw new RangeError(
        `Cannot decode: address ${address} points past the end of the stream (${limit} bytes)`,
      );
    }
    if (!store.isChunkEnd(address)) {
      throw new RangeError(
        `Cannot decode: address ${address} points into the middle of a chunk`,
      );
    }
  });
  if (width !== code.length) {
    throw new SyntaxError(
      `Cannot decode: the footer says the code is ${width} bytes but it has ${code.length}`,
    );
  }
  return new Reader(store).value({
    buf: code,
    end: code.length - 1,
    stored: false,
  });
}

/** Decodes the code a ref names (see the module doc). */
export function decodeRef(store: ChunkStore, ref: number): unknown {
  const reader = new Reader(store);
  return reader.value(reader.cursor(ref));
}

/** Number of leaves of the canonical DUPLE tree at `at`. */
function leafCount(reader: Reader, at: Cursor): number {
  let count = 0;
  let node = at;
  for (let guard = 0; isDuple(node); guard++) {
    if (guard > 64) throw new RangeError("Cannot count items: tree too deep");
    const [left, right] = reader.dupleParts(node.buf, node.end);
    count += leftSize(reader, left);
    node = right;
  }
  return count + 1;
}

/** Size of a perfect left subtree: 2^(length of its leftmost path). */
function leftSize(reader: Reader, at: Cursor): number {
  let size = 1;
  let node = at;
  while (isDuple(node)) {
    if (size > 2 ** 32) {
      throw new RangeError("Cannot count items: tree too deep");
    }
    node = reader.dupleParts(node.buf, node.end)[0];
    size *= 2;
  }
  return size;
}

function itemAt(
  reader: Reader,
  tree: Cursor,
  index: number,
): Cursor | undefined {
  let node = tree;
  let i = index;
  for (let guard = 0; guard < 128; guard++) {
    if (!isDuple(node)) return i === 0 ? node : undefined;
    const [left, right] = reader.dupleParts(node.buf, node.end);
    const size = leftSize(reader, left);
    if (i < size) node = left;
    else {
      i -= size;
      node = right;
    }
  }
  throw new RangeError("Cannot find item: tree too deep");
}

function unbox(reader: Reader, at: Cursor): Cursor {
  let cursor = at;
  for (
    let guard = 0;
    cursor.buf[cursor.end] >= VARIABLE && cursor.buf[cursor.end] < UNUSED;
    guard++
  ) {
    if (guard > MAX_DECODE_DEPTH) {
      throw new RangeError("Cannot unbox: too deep");
    }
    cursor = reader.onlyPart(cursor.buf, cursor.end, VARIABLE);
  }
  return cursor;
}

function isIndex(key: string | number): number | undefined {
  const n = typeof key === "number" ? key : Number(key);
  if (!Number.isInteger(n) || n < 0 || String(n) !== String(key)) {
    return undefined;
  }
  return n;
}

/**
 * The ref of the child at `key` of the object or array at `ref`, or
 * `undefined` if there is none (also for scalars). Arrays answer `length`
 * with the ref of their length, as a virtual or stored code.
 */
export function childRef(
  store: ChunkStore,
  ref: number,
  key: string | number,
): number | undefined {
  const reader = new Reader(store);
  const at = unbox(reader, reader.cursor(ref));
  const f = at.buf[at.end];
  if (f >= OBJECT && f < VARIABLE) {
    const name = String(key);
    let found: Cursor | undefined;
    reader.entries(reader.onlyPart(at.buf, at.end, OBJECT), (n, v) => {
      if (found === undefined && reader.name(n) === name) found = v;
    });
    return found && reader.ref(found);
  }
  if (f >= ARRAY && f < EMPTY_OBJECT) {
    const inner = reader.onlyPart(at.buf, at.end, ARRAY);
    if (!isDuple(inner)) {
      const object = reader.ref(inner);
      return childRef(store, object, key);
    }
    if (key === "length") {
      const count = leafCount(reader, inner);
      return count < 128 ? -(UINT7 + count + 1) : undefined;
    }
    const index = isIndex(key);
    if (index === undefined) return undefined;
    const item = itemAt(reader, inner, index);
    return item && reader.ref(item);
  }
  return undefined;
}

/**
 * Refs of the children of the object or array at `ref`: an object of refs,
 * an array of refs, or `undefined` for scalars.
 */
export function refsOf(
  store: ChunkStore,
  ref: number,
): Record<string, number> | number[] | undefined {
  const reader = new Reader(store);
  const at = unbox(reader, reader.cursor(ref));
  const f = at.buf[at.end];
  if (f === EMPTY_OBJECT) return {};
  if (f === EMPTY_ARRAY) return [];
  if (f >= OBJECT && f < VARIABLE) {
    const out: Record<string, number> = {};
    reader.entries(reader.onlyPart(at.buf, at.end, OBJECT), (n, v) => {
      setOwn(out, reader.name(n), reader.ref(v));
    });
    return out;
  }
  if (f >= ARRAY && f < EMPTY_OBJECT) {
    const inner = reader.onlyPart(at.buf, at.end, ARRAY);
    if (isDuple(inner)) {
      const out: number[] = [];
      reader.leaves(inner, (leaf) => out.push(reader.ref(leaf)), "ARRAY");
      return out;
    }
    const object = refsOf(store, reader.ref(inner)) as Record<string, number>;
    const length = object.length === undefined
      ? undefined
      : decodeRef(store, object.length);
    const out: number[] = [];
    for (const key of Object.keys(object)) {
      if (key !== "length") {
        (out as unknown as Record<string, number>)[key] = object[key];
      }
    }
    out.length = toArray({ length }, at.end).length;
    return out;
  }
  return undefined;
}

/** Number of items of the array at `ref`, or `undefined` if it is not an array. */
export function arrayLength(
  store: ChunkStore,
  ref: number,
): number | undefined {
  const reader = new Reader(store);
  const at = unbox(reader, reader.cursor(ref));
  const f = at.buf[at.end];
  if (f === EMPTY_ARRAY) return 0;
  if (f < ARRAY || f >= EMPTY_OBJECT) return undefined;
  const inner = reader.onlyPart(at.buf, at.end, ARRAY);
  if (isDuple(inner)) return leafCount(reader, inner);
  const lengthRef = childRef(store, reader.ref(inner), "length");
  return lengthRef === undefined
    ? undefined
    : decodeRef(store, lengthRef) as number;
}

/** The footer of the code a ref names. */
export function footerOf(store: ChunkStore, ref: number): number {
  const reader = new Reader(store);
  const at = reader.cursor(ref);
  return at.buf[at.end];
}

/**
 * Refs of the parts of the code at `ref`: two for a DUPLE, one for the
 * one-part codecs (STRING, UINT8ARRAY, FLOAT64, DATE, ARRAY, OBJECT,
 * VARIABLE), none otherwise.
 */
export function partRefsOf(store: ChunkStore, ref: number): number[] {
  const reader = new Reader(store);
  const at = reader.cursor(ref);
  const f = at.buf[at.end];
  if (f >= DUPLE && f < EMPTY_ARRAY) {
    return reader.dupleParts(at.buf, at.end).map((c) => reader.ref(c));
  }
  const base = f < UINT8ARRAY
    ? -1
    : f < EMPTY_STRING
    ? UINT8ARRAY
    : f === EMPTY_STRING
    ? -1
    : f < UINT7
    ? STRING
    : f < FLOAT64
    ? -1
    : f < DATE
    ? FLOAT64
    : f < SIGNATURE
    ? DATE
    : f < DUPLE
    ? -1
    : f === EMPTY_ARRAY || f === EMPTY_OBJECT
    ? -1
    : f < EMPTY_OBJECT
    ? ARRAY
    : f < VARIABLE
    ? OBJECT
    : f < UNUSED
    ? VARIABLE
    : -1;
  if (base < 0) return [];
  return [reader.ref(reader.onlyPart(at.buf, at.end, base))];
}

/** The ref inside any VARIABLE boxes around the code at `ref`. */
export function unboxRef(store: ChunkStore, ref: number): number {
  let inner = ref;
  for (let guard = 0;; guard++) {
    const f = footerOf(store, inner);
    if (f < VARIABLE || f >= UNUSED) return inner;
    if (guard > MAX_DECODE_DEPTH) {
      throw new RangeError("Cannot unbox: VARIABLE boxes nest too deep");
    }
    inner = partRefsOf(store, inner)[0];
  }
}
