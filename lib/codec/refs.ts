/**
 * Building codes from refs: the write half of walking values by ref. These
 * rebuild only the nodes on a path and reuse everything else by ref, so an
 * update costs O(depth · log n) instead of re-encoding the value.
 *
 * @module
 */

import { type ChunkStore, virtualCode } from "./chunk_store.ts";
import { arrayLength, footerOf, partRefsOf, refsOf, setOwn } from "./decode.ts";
import { dupleOf, encodeValue, onePart, treeOf } from "./encode.ts";
import {
  ARRAY,
  DUPLE,
  EMPTY_ARRAY,
  EMPTY_OBJECT,
  OBJECT,
  UNUSED,
  VARIABLE,
} from "./footers.ts";
import { codeWidth } from "./width.ts";

/** The code a ref names (a read-only view for stored chunks). */
export function codeOfRef(chunks: ChunkStore, ref: number): Uint8Array {
  if (ref < 0) return virtualCode(ref);
  const buf = chunks.buffer;
  const width = codeWidth(buf, ref);
  return buf.subarray(ref - width + 1, ref + 1);
}

/** Stores `code` if absent and returns its address. */
export function storeCode(chunks: ChunkStore, code: Uint8Array): number {
  return chunks.lookup(code) ?? chunks.appendNew(code);
}

function isIndexKey(key: string | number): number | undefined {
  const n = typeof key === "number" ? key : Number(key);
  if (!Number.isInteger(n) || n < 0 || String(n) !== String(key)) {
    return undefined;
  }
  return n;
}

function objectTree(
  chunks: ChunkStore,
  refs: Record<string, number>,
): Uint8Array {
  const keys = Object.keys(refs);
  const entry = (i: number): Uint8Array =>
    dupleOf(
      chunks,
      () => encodeValue(chunks, keys[i]),
      () => codeOfRef(chunks, refs[keys[i]]),
    );
  return keys.length === 1 ? entry(0) : treeOf(chunks, entry, 0, keys.length);
}

/** An OBJECT code over `{ name: ref }`. */
export function objectOfRefs(
  chunks: ChunkStore,
  refs: Record<string, number>,
): Uint8Array {
  if (Object.keys(refs).length === 0) return new Uint8Array([EMPTY_OBJECT]);
  return onePart(chunks, OBJECT, objectTree(chunks, refs));
}

/**
 * An ARRAY code over item refs: a tree for 2+ items without holes, else the
 * object form `{ ...indices, length }` (whose `length` is a value).
 */
export function arrayOfRefs(chunks: ChunkStore, refs: number[]): Uint8Array {
  if (refs.length === 0) return new Uint8Array([EMPTY_ARRAY]);
  if (refs.length > 1 && Object.keys(refs).length === refs.length) {
    const tree = treeOf(
      chunks,
      (i) => codeOfRef(chunks, refs[i]),
      0,
      refs.length,
    );
    return onePart(chunks, ARRAY, tree);
  }
  const entries: Record<string, number> = {};
  for (const key of Object.keys(refs)) entries[key] = refs[Number(key)];
  entries.length = storeCode(chunks, encodeValue(chunks, refs.length));
  return onePart(chunks, ARRAY, objectOfRefs(chunks, entries));
}

function isDupleRef(chunks: ChunkStore, ref: number): boolean {
  const f = footerOf(chunks, ref);
  return f >= DUPLE && f < EMPTY_ARRAY;
}

/**
 * Ref of the node covering items `[lo, hi)` in the canonical tree at `root`
 * over `n` items, or `undefined` when no node covers exactly that range.
 */
function nodeFor(
  chunks: ChunkStore,
  root: number,
  n: number,
  lo: number,
  hi: number,
): number | undefined {
  let node = root;
  let a = 0;
  let b = n;
  for (;;) {
    if (a === lo && b === hi) return node;
    if (b - a < 2 || !isDupleRef(chunks, node)) return undefined;
    const split = b - a === 2 ? 1 : 2 ** (31 - Math.clz32(b - a - 1));
    const [left, right] = partRefsOf(chunks, node);
    if (hi <= a + split) {
      node = left;
      b = a + split;
    } else if (lo >= a + split) {
      node = right;
      a = a + split;
    } else return undefined;
  }
}

/**
 * The tree over `max(n, index + 1)` items equal to the canonical tree at
 * `root` over `n` items except that item `index` (≤ n; n appends) is `item`.
 * Only nodes on the path to `index` are new; every other subtree is reused
 * by ref. Parts are built right to left, like a full encode.
 */
export function treeWithItem(
  chunks: ChunkStore,
  root: number,
  n: number,
  index: number,
  item: number,
): Uint8Array {
  const itemRef = (i: number): number => {
    const ref = nodeFor(chunks, root, n, i, i + 1);
    if (ref === undefined) {
      throw new RangeError(`Cannot rebuild array: item ${i} is missing`);
    }
    return ref;
  };
  const build = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) {
      return codeOfRef(chunks, lo === index ? item : itemRef(lo));
    }
    if ((index < lo || index >= hi) && hi <= n) {
      const old = nodeFor(chunks, root, n, lo, hi);
      if (old !== undefined) return codeOfRef(chunks, old);
    }
    const count = hi - lo;
    const split = count === 2 ? 1 : 2 ** (31 - Math.clz32(count - 1));
    return dupleOf(
      chunks,
      () => build(lo, lo + split),
      () => build(lo + split, hi),
    );
  };
  return build(0, Math.max(n, index + 1));
}

function isBox(chunks: ChunkStore, ref: number): boolean {
  const f = footerOf(chunks, ref);
  return f >= VARIABLE && f < UNUSED;
}

/**
 * The ref of the container at `node` with child `key` replaced by `child`
 * (added when absent). A missing container (`undefined`) becomes an object.
 * Throws a `TypeError` when `node` is a scalar or `key` is not an index of
 * an array.
 */
export function withChild(
  chunks: ChunkStore,
  node: number | undefined,
  key: string | number,
  child: number,
): number {
  let target = node;
  while (target !== undefined && isBox(chunks, target)) {
    target = partRefsOf(chunks, target)[0];
  }
  if (target === undefined) {
    const refs: Record<string, number> = {};
    setOwn(refs, String(key), child);
    return storeCode(chunks, objectOfRefs(chunks, refs));
  }
  const f = footerOf(chunks, target);
  if (f === EMPTY_ARRAY || (f >= ARRAY && f < EMPTY_OBJECT)) {
    const index = isIndexKey(key);
    if (index === undefined) {
      throw new TypeError(
        `Cannot set ${JSON.stringify(key)} on an array: expected an index`,
      );
    }
    const n = arrayLength(chunks, target) ?? 0;
    const [tree] = partRefsOf(chunks, target);
    if (tree !== undefined && isDupleRef(chunks, tree) && index <= n) {
      const code = treeWithItem(chunks, tree, n, index, child);
      return storeCode(chunks, onePart(chunks, ARRAY, code));
    }
    const refs = (refsOf(chunks, target) ?? []) as number[];
    const next = refs.slice();
    next[index] = child;
    return storeCode(chunks, arrayOfRefs(chunks, next));
  }
  if (f === EMPTY_OBJECT || (f >= OBJECT && f < VARIABLE)) {
    const refs = { ...(refsOf(chunks, target) as Record<string, number>) };
    setOwn(refs, String(key), child);
    return storeCode(chunks, objectOfRefs(chunks, refs));
  }
  throw new TypeError(
    `Cannot set ${
      JSON.stringify(key)
    }: the value there is not an object or array`,
  );
}
