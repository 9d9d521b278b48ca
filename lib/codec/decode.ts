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
import { codeWidth, MAX_CHUNK_LENGTH, SIGNATURE_BYTES } from "./width.ts";

/** Most codes one `decode` may visit; shared subtrees count every time. */
export const MAX_DECODE_NODES = 1 << 24;
/**
 * Deepest nesting of values `decode` follows. An array of one item (or with
 * holes) counts two levels, its ARRAY and its OBJECT, so every value
 * `encode` accepts (up to `MAX_ENCODE_DEPTH`, 1000) decodes.
 */
export const MAX_DECODE_DEPTH = 2048;
/**
 * Deepest DUPLE tree `decode` follows: a canonical tree of 2^32 items is 32
 * levels deep (one more for an object's entry duples).
 */
export const MAX_TREE_DEPTH = 64;

// Distinct codes a walk can reach beyond the stream's own bytes: those of a
// standalone code (at most one chunk long) and of a virtual ref.
const EXTRA_CODES = MAX_CHUNK_LENGTH + 8;

// ignoreBOM: a string that starts with U+FEFF keeps it.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

// Scratch for the bytes of a STRING, UINT8ARRAY, FLOAT64 or DATE while they
// are gathered from their tree of words (never reentered: gathering decodes
// no values).
let scratch = new Uint8Array(256);
let scratchView = new DataView(scratch.buffer);

function growScratch(needed: number): Uint8Array {
  let size = scratch.length * 2;
  while (size < needed) size *= 2;
  const bigger = new Uint8Array(size);
  bigger.set(scratch);
  scratch = bigger;
  scratchView = new DataView(scratch.buffer);
  return scratch;
}

function releaseScratch(): void {
  if (scratch.length > 1 << 16) {
    scratch = new Uint8Array(256);
    scratchView = new DataView(scratch.buffer);
  }
}

/** UTF-8 text of `scratch[0, n)`; short ASCII text without TextDecoder. */
function utf8(n: number): string {
  if (n <= 24) {
    let text = "";
    for (let i = 0; i < n; i++) {
      const c = scratch[i];
      if (c >= 0x80) return textDecoder.decode(scratch.subarray(0, n));
      text += String.fromCharCode(c);
    }
    return text;
  }
  return textDecoder.decode(scratch.subarray(0, n));
}

function isDupleFooter(f: number): boolean {
  return f >= DUPLE && f < EMPTY_ARRAY;
}

/** Where a code lies: its buffer and the offset of its footer. */
interface Cursor {
  buf: Uint8Array;
  end: number;
  /** True when the code was reached through an address part. */
  stored: boolean;
}

/**
 * One walk over codes. Every code visited counts against
 * {@linkcode MAX_DECODE_NODES}; and once a walk has visited more codes than
 * the stream holds, some part must be shared (a DAG), so the walk counts
 * once, with memoization, how many codes it would visit in all and fails
 * fast if that is over the limit — a chain of DUPLEs whose parts both name
 * the previous one stands for 2^depth codes in a few hundred bytes.
 */
class Reader {
  readonly store: ChunkStore;
  readonly sbuf: Uint8Array;
  visits = 0;
  limit: number;
  depth = 0;
  rootBuf: Uint8Array | undefined;
  rootEnd = 0;
  // The parts of the DUPLE last split (see split()).
  leftBuf: Uint8Array;
  leftEnd = 0;
  rightBuf: Uint8Array;
  rightEnd = 0;

  constructor(store: ChunkStore) {
    this.store = store;
    this.sbuf = store.buffer;
    this.leftBuf = this.rightBuf = this.sbuf;
    this.limit = Math.min(MAX_DECODE_NODES, store.byteLength + EXTRA_CODES);
  }

  /** Counts a visit to one code. */
  visit(): void {
    if (++this.visits > this.limit) this.#overLimit();
  }

  #overLimit(): void {
    if (this.visits > MAX_DECODE_NODES || this.rootBuf === undefined) {
      throw new RangeError(
        `Cannot decode: the value has more than ${MAX_DECODE_NODES} parts`,
      );
    }
    const total = countCodes(this, this.rootBuf, this.rootEnd);
    if (total > MAX_DECODE_NODES) {
      throw new RangeError(
        `Cannot decode: the value expands to more than ${MAX_DECODE_NODES} parts (${total} or more) because parts are shared; refusing a DAG bomb`,
      );
    }
    this.limit = MAX_DECODE_NODES;
  }

  /** Where the walk starts, for the count of a shared structure. */
  setRoot(buf: Uint8Array, end: number): void {
    if (this.rootBuf === undefined) {
      this.rootBuf = buf;
      this.rootEnd = end;
    }
  }

  tooDeep(): RangeError {
    return new RangeError(
      `Cannot decode: the value nests deeper than ${MAX_DECODE_DEPTH} levels`,
    );
  }

  treeTooDeep(end: number): RangeError {
    return new RangeError(
      `Cannot decode: the DUPLE tree at ${end} is deeper than ${MAX_TREE_DEPTH} levels, deeper than any canonical tree`,
    );
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

  /**
   * The parts of the code at `buf[end]`: two for a DUPLE, one for the
   * one-part codecs, none otherwise.
   */
  parts(buf: Uint8Array, end: number): Cursor[] {
    const f = buf[end];
    if (isDupleFooter(f)) return this.dupleParts(buf, end);
    const base = onePartBase(f);
    return base < 0 ? [] : [this.onlyPart(buf, end, base)];
  }

  /** Counts a visit to a tree node `level` levels below its tree's root. */
  enterTree(level: number, end: number): void {
    this.visit();
    if (level > MAX_TREE_DEPTH) throw this.treeTooDeep(end);
  }

  /**
   * Counts a visit to the DUPLE at `buf[end]` (see {@linkcode enterTree})
   * and sets `leftBuf`/`leftEnd` and `rightBuf`/`rightEnd` to its parts,
   * without allocating; callers copy them before the next split.
   */
  split(buf: Uint8Array, end: number, level: number): void {
    this.enterTree(level, end);
    const option = buf[end] - DUPLE;
    const ro = option % PART_OPTIONS;
    const lo = (option - ro) / PART_OPTIONS;
    let rightBuf = buf;
    let rightEnd = end - 1;
    let rightWidth = ro;
    if (ro === 0) rightWidth = inlineWidth(buf, end - 1);
    else {
      rightBuf = this.sbuf;
      rightEnd = readUint(buf, end - ro, ro);
    }
    let leftBuf = buf;
    let leftEnd = end - 1 - rightWidth;
    if (lo !== 0) {
      leftBuf = this.sbuf;
      leftEnd = readUint(buf, leftEnd - lo + 1, lo);
    }
    this.leftBuf = leftBuf;
    this.leftEnd = leftEnd;
    this.rightBuf = rightBuf;
    this.rightEnd = rightEnd;
  }

  value(at: Cursor): unknown {
    return this.valueAt(at.buf, at.end);
  }

  /**
   * Decodes the code whose footer is `buf[end]`. Containers are handled
   * here, without helper frames, so that deep values use little stack.
   */
  valueAt(buf: Uint8Array, end: number): unknown {
    if (++this.visits > this.limit) this.#overLimit();
    let f = buf[end];
    // VARIABLE boxes: follow them without recursing.
    while (f >= VARIABLE && f < UNUSED) {
      const o = f - VARIABLE;
      if (o !== 0) {
        end = readUint(buf, end - o, o);
        buf = this.sbuf;
      } else end--;
      if (++this.visits > this.limit) this.#overLimit();
      f = buf[end];
    }
    if (f < EMPTY_ARRAY || f === EMPTY_OBJECT || f >= VARIABLE) {
      return this.#scalar(buf, end, f);
    }
    if (f === EMPTY_ARRAY) return [];
    if (++this.depth > MAX_DECODE_DEPTH) throw this.tooDeep();
    const base = f < EMPTY_OBJECT ? ARRAY : OBJECT;
    const o = f - base;
    let partBuf = buf;
    let partEnd = end - 1;
    if (o !== 0) {
      partBuf = this.sbuf;
      partEnd = readUint(buf, end - o, o);
    }
    const pf = partBuf[partEnd];
    let value: unknown;
    if (base === OBJECT) {
      if (!isDupleFooter(pf)) {
        throw new SyntaxError(
          `Cannot decode OBJECT at ${partEnd}: expected a DUPLE tree of entries, found footer ${pf}`,
        );
      }
      const out: Record<string, unknown> = {};
      this.entriesInto(partBuf, partEnd, out, 0);
      value = out;
    } else if (isDupleFooter(pf)) {
      const items: unknown[] = [];
      this.itemsInto(partBuf, partEnd, items, 0);
      value = items;
    } else if (pf === EMPTY_OBJECT || (pf >= OBJECT && pf < VARIABLE)) {
      value = toArray(
        this.valueAt(partBuf, partEnd) as Record<string, unknown>,
        partEnd,
      );
    } else {
      throw new SyntaxError(
        `Cannot decode ARRAY at ${partEnd}: expected a DUPLE tree or an OBJECT, found footer ${pf}`,
      );
    }
    this.depth--;
    return value;
  }

  /** Decodes a code that holds no other values. */
  #scalar(buf: Uint8Array, end: number, f: number): unknown {
    if (f < WORD) {
      return f === UNDEFINED ? undefined : f === NULL ? null : f === TRUE;
    }
    if (f < UINT8ARRAY) return buf.slice(end - (f - WORD), end);
    if (f < EMPTY_STRING) {
      this.visits--; // gather() counts this code again
      const n = this.gather(buf, end);
      const bytes = scratch.slice(0, n);
      releaseScratch();
      return bytes;
    }
    if (f === EMPTY_STRING) return "";
    if (f < UINT7) {
      const text = utf8(this.gatherPart(buf, end, STRING));
      releaseScratch();
      return text;
    }
    if (f < FLOAT64) return f - UINT7;
    if (f < DATE) return this.float64(buf, end, FLOAT64, "FLOAT64");
    if (f < SIGNATURE) {
      return new Date(this.float64(buf, end, DATE, "DATE"));
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
    if (f === EMPTY_OBJECT) return {};
    throw new SyntaxError(
      `Cannot decode code ending at ${end}: footer ${f} names no codec`,
    );
  }

  /**
   * Gathers the bytes of the WORD or UINT8ARRAY code at `buf[end]` into
   * `scratch`; returns how many.
   */
  gather(buf: Uint8Array, end: number): number {
    this.visit();
    const f = buf[end];
    if (f >= WORD && f < UINT8ARRAY) {
      const n = f - WORD;
      for (let i = 0; i < n; i++) scratch[i] = buf[end - n + i];
      return n;
    }
    if (f < UINT8ARRAY || f >= EMPTY_STRING) {
      throw new SyntaxError(
        `Cannot decode bytes at ${end}: expected a WORD or UINT8ARRAY code, found footer ${f}`,
      );
    }
    const o = f - UINT8ARRAY;
    const treeBuf = o === 0 ? buf : this.sbuf;
    const treeEnd = o === 0 ? end - 1 : readUint(buf, end - o, o);
    if (!isDupleFooter(treeBuf[treeEnd])) {
      throw new SyntaxError(
        `Cannot decode UINT8ARRAY at ${treeEnd}: expected a DUPLE tree, found footer ${
          treeBuf[treeEnd]
        }`,
      );
    }
    return this.words(treeBuf, treeEnd, 0, end, 0);
  }

  /**
   * Gathers into `scratch` the bytes of the one part of the code at
   * `buf[end]`, a one-part codec whose first footer is `base`.
   */
  gatherPart(buf: Uint8Array, end: number, base: number): number {
    const o = buf[end] - base;
    return o === 0
      ? this.gather(buf, end - 1)
      : this.gather(this.sbuf, readUint(buf, end - o, o));
  }

  /** Appends the words under the DUPLE at `buf[end]` at `scratch[n]`. */
  words(
    buf: Uint8Array,
    end: number,
    n: number,
    at: number,
    level: number,
  ): number {
    this.split(buf, end, level);
    const { leftBuf, leftEnd, rightBuf, rightEnd } = this;
    n = this.word(leftBuf, leftEnd, n, at, level + 1);
    return this.word(rightBuf, rightEnd, n, at, level + 1);
  }

  word(
    buf: Uint8Array,
    end: number,
    n: number,
    at: number,
    level: number,
  ): number {
    const f = buf[end];
    if (isDupleFooter(f)) return this.words(buf, end, n, at, level);
    if (f < WORD || f >= UINT8ARRAY) {
      throw new SyntaxError(
        `Cannot decode bytes at ${at}: a leaf of its tree has footer ${f}, not a WORD`,
      );
    }
    this.visit();
    const length = f - WORD;
    if (n + length > scratch.length) growScratch(n + length);
    const out = scratch;
    for (let i = 0; i < length; i++) out[n + i] = buf[end - length + i];
    return n + length;
  }

  float64(buf: Uint8Array, end: number, base: number, codec: string): number {
    const n = this.gatherPart(buf, end, base);
    if (n !== 8) {
      throw new SyntaxError(
        `Cannot decode ${codec} at ${end}: expected 8 bytes, found ${n}`,
      );
    }
    return scratchView.getFloat64(0, true);
  }

  /** Appends the items of the ARRAY tree under the DUPLE at `buf[end]`. */
  itemsInto(
    buf: Uint8Array,
    end: number,
    items: unknown[],
    level: number,
  ): void {
    this.split(buf, end, level);
    const { leftBuf, leftEnd, rightBuf, rightEnd } = this;
    if (isDupleFooter(leftBuf[leftEnd])) {
      this.itemsInto(leftBuf, leftEnd, items, level + 1);
    } else items.push(this.valueAt(leftBuf, leftEnd));
    if (isDupleFooter(rightBuf[rightEnd])) {
      this.itemsInto(rightBuf, rightEnd, items, level + 1);
    } else items.push(this.valueAt(rightBuf, rightEnd));
  }

  /** Sets the entries of the OBJECT tree under the DUPLE at `buf[end]`. */
  entriesInto(
    buf: Uint8Array,
    end: number,
    out: Record<string, unknown>,
    level: number,
  ): void {
    this.split(buf, end, level);
    const { leftBuf, leftEnd, rightBuf, rightEnd } = this;
    const leftIsNode = isDupleFooter(leftBuf[leftEnd]);
    const rightIsNode = isDupleFooter(rightBuf[rightEnd]);
    if (!leftIsNode && !rightIsNode) {
      const name = entryName(this.valueAt(leftBuf, leftEnd), leftEnd);
      setOwn(out, name, this.valueAt(rightBuf, rightEnd));
    } else if (leftIsNode && rightIsNode) {
      this.entriesInto(leftBuf, leftEnd, out, level + 1);
      this.entriesInto(rightBuf, rightEnd, out, level + 1);
    } else {
      throw new SyntaxError(
        `Cannot decode OBJECT at ${end}: a tree node mixes an entry and a subtree`,
      );
    }
  }

  /** Visits the leaves of the DUPLE tree at `at`, left to right. */
  leaves(
    at: Cursor,
    visit: (leaf: Cursor) => void,
    codec: string,
    level = 0,
  ): void {
    if (!isDuple(at)) {
      throw new SyntaxError(
        `Cannot decode ${codec} at ${at.end}: expected a DUPLE tree, found footer ${
          at.buf[at.end]
        }`,
      );
    }
    this.enterTree(level, at.end);
    for (const child of this.dupleParts(at.buf, at.end)) {
      if (isDuple(child)) this.leaves(child, visit, codec, level + 1);
      else visit(child);
    }
  }

  /** Visits the `[name, value]` entry duples of the OBJECT tree at `at`. */
  entries(
    at: Cursor,
    visit: (name: Cursor, value: Cursor) => void,
    level = 0,
  ): void {
    if (!isDuple(at)) {
      throw new SyntaxError(
        `Cannot decode OBJECT at ${at.end}: expected a DUPLE tree of entries, found footer ${
          at.buf[at.end]
        }`,
      );
    }
    this.enterTree(level, at.end);
    const [left, right] = this.dupleParts(at.buf, at.end);
    const leftIsNode = isDuple(left);
    const rightIsNode = isDuple(right);
    if (!leftIsNode && !rightIsNode) visit(left, right);
    else if (leftIsNode && rightIsNode) {
      this.entries(left, visit, level + 1);
      this.entries(right, visit, level + 1);
    } else {
      throw new SyntaxError(
        `Cannot decode OBJECT at ${at.end}: a tree node mixes an entry and a subtree`,
      );
    }
  }

  name(at: Cursor): string {
    return entryName(this.value(at), at.end);
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

  /**
   * The code a ref names; also where the walk starts. A virtual ref's code
   * is checked like a standalone code: well-formed, and naming only chunks
   * of this stream.
   */
  cursor(ref: number): Cursor {
    if (ref < 0) {
      const code = virtualCode(ref);
      checkStandalone(this.store, code, `ref ${ref}`);
      this.setRoot(code, code.length - 1);
      return { buf: code, end: code.length - 1, stored: false };
    }
    if (!Number.isSafeInteger(ref) || ref >= this.store.byteLength) {
      throw new RangeError(
        `Cannot resolve ref ${ref}: the stream is ${this.store.byteLength} bytes long`,
      );
    }
    this.setRoot(this.sbuf, ref);
    return { buf: this.sbuf, end: ref, stored: this.store.isChunkEnd(ref) };
  }
}

/**
 * Width of the inline code whose footer is `buf[end]`: the common short
 * codes directly, anything else through {@linkcode codeWidth}.
 */
function inlineWidth(buf: Uint8Array, end: number): number {
  const f = buf[end];
  if (f < WORD) return 1;
  if (f < UINT8ARRAY) return 1 + f - WORD;
  if (f >= UINT7 && f < FLOAT64) return 1;
  return codeWidth(buf, end);
}

/** The decoded name of the entry at `end`; a `SyntaxError` unless a string. */
function entryName(name: unknown, end: number): string {
  if (typeof name !== "string") {
    throw new SyntaxError(
      `Cannot decode OBJECT: an entry's name at ${end} is ${
        describeValue(name)
      }, not a string`,
    );
  }
  return name;
}

/** A short description of a decoded value, for messages. */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "a Uint8Array";
  if (value instanceof Date) return "a Date";
  if (value instanceof Signature) return "a Signature";
  const type = typeof value;
  return type === "undefined" ? "undefined" : `a ${type}`;
}

/**
 * Checks a code that is not a chunk of `store` (a standalone code, or the
 * inline code a virtual ref stands for): it must be exactly one code, and
 * every address in it must name a chunk of `store`.
 */
function checkStandalone(
  store: ChunkStore,
  code: Uint8Array,
  what: string,
): void {
  const limit = store.byteLength;
  const width = codeWidth(code, code.length - 1, 0, (address) => {
    if (address >= limit) {
      throw new RangeError(
        `Cannot decode ${what}: address ${address} points past the end of the stream (${limit} bytes)`,
      );
    }
    if (!store.isChunkEnd(address)) {
      throw new RangeError(
        `Cannot decode ${what}: address ${address} points into the middle of a chunk`,
      );
    }
  });
  if (width !== code.length) {
    throw new SyntaxError(
      `Cannot decode ${what}: the footer says the code is ${width} bytes but it has ${code.length}`,
    );
  }
}

/**
 * How many codes a walk from `buf[end]` visits, shared parts counted each
 * time they appear: memoized per stored code, so it costs one pass over the
 * distinct codes. Throws a `RangeError` as soon as the count passes
 * {@linkcode MAX_DECODE_NODES}.
 */
function countCodes(reader: Reader, buf: Uint8Array, end: number): number {
  const memo = new Map<number, number>();
  const sbuf = reader.sbuf;
  // An explicit stack, so that a deep structure cannot overflow the call
  // stack: each frame is a code, its children still to count and its sum.
  interface Frame {
    buf: Uint8Array;
    end: number;
    children: Cursor[];
    next: number;
    total: number;
  }
  const frameOf = (buf: Uint8Array, end: number): Frame => ({
    buf,
    end,
    children: reader.parts(buf, end),
    next: 0,
    total: 1,
  });
  const stack: Frame[] = [frameOf(buf, end)];
  for (;;) {
    const frame = stack[stack.length - 1];
    if (frame.next < frame.children.length) {
      const child = frame.children[frame.next++];
      const known = child.buf === sbuf ? memo.get(child.end) : undefined;
      if (known !== undefined) frame.total += known;
      else stack.push(frameOf(child.buf, child.end));
      continue;
    }
    if (frame.total > MAX_DECODE_NODES) {
      throw new RangeError(
        `Cannot decode: the value expands to more than ${MAX_DECODE_NODES} parts because parts are shared; refusing a DAG bomb`,
      );
    }
    if (frame.buf === sbuf) memo.set(frame.end, frame.total);
    stack.pop();
    if (stack.length === 0) return frame.total;
    stack[stack.length - 1].total += frame.total;
  }
}

/** First footer of the one-part codec `f` belongs to, or -1 for the others. */
function onePartBase(f: number): number {
  if (f < UINT8ARRAY) return -1;
  if (f < EMPTY_STRING) return UINT8ARRAY;
  if (f === EMPTY_STRING) return -1;
  if (f < UINT7) return STRING;
  if (f < FLOAT64) return -1;
  if (f < DATE) return FLOAT64;
  if (f < SIGNATURE) return DATE;
  if (f <= EMPTY_ARRAY) return -1;
  if (f < EMPTY_OBJECT) return ARRAY;
  if (f === EMPTY_OBJECT) return -1;
  if (f < VARIABLE) return OBJECT;
  if (f < UNUSED) return VARIABLE;
  return -1;
}

/**
 * The ref of the OBJECT an ARRAY of one item, holes or extra keys stands
 * on; a `SyntaxError` if its part is anything else.
 */
function arrayObjectRef(reader: Reader, inner: Cursor, end: number): number {
  const f = inner.buf[inner.end];
  if (f !== EMPTY_OBJECT && (f < OBJECT || f >= VARIABLE)) {
    throw new SyntaxError(
      `Cannot decode ARRAY at ${end}: expected a DUPLE tree or an OBJECT, found footer ${f}`,
    );
  }
  return reader.ref(inner);
}

function isDuple(at: Cursor): boolean {
  return isDupleFooter(at.buf[at.end]);
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
  if (!(code instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode: expected an address or a Uint8Array code, got ${typeof code}`,
    );
  }
  if (code.length === 0) {
    throw new RangeError("Cannot decode: the code is empty");
  }
  checkStandalone(store, code, "code");
  const reader = new Reader(store);
  const end = code.length - 1;
  reader.setRoot(code, end);
  return guardStack(() => reader.valueAt(code, end));
}

/**
 * Throws unless `ref` names a code of `store`: the address of a chunk, or a
 * virtual ref whose inline code is well-formed and names only chunks of
 * `store` (a `RangeError` or `SyntaxError` saying which is wrong).
 */
export function checkRef(store: ChunkStore, ref: number): void {
  if (typeof ref !== "number" || !Number.isSafeInteger(ref)) {
    throw new RangeError(`Cannot use ref ${String(ref)}: not an integer`);
  }
  if (ref >= 0) {
    if (!store.isChunkEnd(ref)) store.resolve(ref); // throws, saying why
    return;
  }
  checkStandalone(store, virtualCode(ref), `ref ${ref}`);
}

/** Decodes the code a ref names (see the module doc). */
export function decodeRef(store: ChunkStore, ref: number): unknown {
  const reader = new Reader(store);
  const at = reader.cursor(ref);
  return guardStack(() => reader.valueAt(at.buf, at.end));
}

/**
 * Runs a walk, turning the engine's stack overflow (values can nest up to
 * {@linkcode MAX_DECODE_DEPTH} levels, each with a tree of up to
 * {@linkcode MAX_TREE_DEPTH} levels) into a `RangeError` that says what
 * failed.
 */
function guardStack<T>(walk: () => T): T {
  try {
    return walk();
  } catch (error) {
    if (
      error instanceof RangeError && /call stack/i.test(error.message)
    ) {
      throw new RangeError(
        "Cannot decode: the value nests too deeply for the call stack",
        { cause: error },
      );
    }
    throw error;
  }
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
  // Ends: every box names an earlier chunk or a shorter inline code.
  let cursor = at;
  while (
    cursor.buf[cursor.end] >= VARIABLE && cursor.buf[cursor.end] < UNUSED
  ) {
    reader.visit();
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
      return childRef(store, arrayObjectRef(reader, inner, at.end), key);
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
    const object = refsOf(
      store,
      arrayObjectRef(reader, inner, at.end),
    ) as Record<string, number>;
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
  const lengthRef = childRef(
    store,
    arrayObjectRef(reader, inner, at.end),
    "length",
  );
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
  return reader.parts(at.buf, at.end).map((c) => reader.ref(c));
}

/** The ref inside any VARIABLE boxes around the code at `ref`. */
export function unboxRef(store: ChunkStore, ref: number): number {
  // Ends: every box names an earlier chunk or a shorter inline code.
  let inner = ref;
  for (;;) {
    const f = footerOf(store, inner);
    if (f < VARIABLE || f >= UNUSED) return inner;
    inner = partRefsOf(store, inner)[0];
  }
}
