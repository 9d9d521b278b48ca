/**
 * Three-way merge of values, for rebasing one device's commits onto the
 * history another device of the same identity got accepted first.
 *
 * @module
 */

import { ChunkStore } from "../codec/chunk_store.ts";
import { encodeValue } from "../codec/encode.ts";
import type { PathKey } from "./streamo.ts";

/** A path where both sides changed the same value differently. */
export interface MergeConflict {
  /** Where the conflict is. */
  path: PathKey[];
  /** The value at the fork point (`undefined` if absent). */
  base: unknown;
  /** Our value there. */
  ours: unknown;
  /** Their value there. */
  theirs: unknown;
  /** Which side's value the merge kept. */
  winner: "ours" | "theirs";
}

/** Options for {@linkcode mergeValues}. */
export interface MergeOptions {
  /** Date of our head commit: a later date wins a conflict. */
  oursDate?: Date;
  /** Date of their head commit. */
  theirsDate?: Date;
}

/** The outcome of a merge. */
export interface MergeResult {
  /** The merged value. */
  value: unknown;
  /** Every true conflict, resolved as `winner` says. */
  conflicts: MergeConflict[];
}

const ABSENT = Symbol("absent");
type Maybe = unknown | typeof ABSENT;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Canonical bytes of a value: its code plus every sub-code, in order. */
function canonical(value: unknown): Uint8Array {
  const store = new ChunkStore();
  const code = encodeValue(store, value);
  const out = new Uint8Array(store.byteLength + code.length);
  out.set(store.view());
  out.set(code, store.byteLength);
  return out;
}

/** True when two values encode identically (deep equality on codec values). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === ABSENT || b === ABSENT) return false;
  if (typeof a !== typeof b) return false;
  if (typeof a === "number") {
    return Number.isNaN(a) && Number.isNaN(b as number);
  }
  if (a === null || b === null || typeof a !== "object") return false;
  if (a instanceof Date) {
    return b instanceof Date && Object.is(a.getTime(), b.getTime());
  }
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if ((i in a) !== (i in b) || !sameValue(a[i], b[i])) return false;
    }
    return true;
  }
  if (Array.isArray(b) || b instanceof Date || b instanceof Uint8Array) {
    return false;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b as object, k)) return false;
    if (
      !sameValue(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    ) {
      return false;
    }
  }
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Merges `ours` and `theirs`, two descendants of `base`:
 * - a side that left a value unchanged takes the other side's change;
 * - objects merge key by key (a key removed on one side and unchanged on
 *   the other is removed);
 * - arrays that both sides only appended to keep both sides' new items —
 *   theirs first, then ours — without duplicating an item both appended;
 *   arrays of unchanged length merge item by item;
 * - anything else both sides changed differently is a conflict: the side
 *   with the later head commit date wins, ties broken by comparing the
 *   values' bytes, and the conflict is reported.
 *
 * Deterministic: every device merging the same three values gets the same
 * result.
 *
 * @example
 * ```ts
 * import { mergeValues } from "@streamo/streamo";
 * const base = { messages: [{ text: "a", at: 1 }] };
 * const ours = { messages: [...base.messages, { text: "b", at: 2 }] };
 * const theirs = { messages: [...base.messages, { text: "c", at: 3 }] };
 * console.log(mergeValues(base, ours, theirs).value);
 * // { messages: [{ text: "a", at: 1 }, { text: "c", at: 3 }, { text: "b", at: 2 }] }
 * ```
 */
export function mergeValues(
  base: unknown,
  ours: unknown,
  theirs: unknown,
  options: MergeOptions = {},
): MergeResult {
  const conflicts: MergeConflict[] = [];
  const value = merge(base, ours, theirs, [], options, conflicts);
  return { value: value === ABSENT ? undefined : value, conflicts };
}

function merge(
  base: Maybe,
  ours: Maybe,
  theirs: Maybe,
  path: PathKey[],
  options: MergeOptions,
  conflicts: MergeConflict[],
): Maybe {
  // sameValue(ABSENT, ABSENT) is true: an absent side is unchanged too.
  if (sameValue(ours, theirs) || sameValue(base, ours)) return theirs;
  if (sameValue(base, theirs)) return ours;
  if (isPlainObject(ours) && isPlainObject(theirs)) {
    const b = isPlainObject(base) ? base : {};
    const out: Record<string, unknown> = {};
    const keys = Object.keys(theirs);
    for (const k of Object.keys(ours)) {
      if (!Object.hasOwn(theirs, k)) keys.push(k);
    }
    for (const k of keys) {
      const merged = merge(
        Object.hasOwn(b, k) ? b[k] : ABSENT,
        Object.hasOwn(ours, k) ? ours[k] : ABSENT,
        Object.hasOwn(theirs, k) ? theirs[k] : ABSENT,
        [...path, k],
        options,
        conflicts,
      );
      if (merged !== ABSENT) {
        Object.defineProperty(out, k, {
          value: merged,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return out;
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    const b = Array.isArray(base) ? base : [];
    if (isPrefix(b, ours) && isPrefix(b, theirs)) {
      const added = theirs.slice(b.length);
      const out = theirs.slice();
      for (const item of ours.slice(b.length)) {
        if (!added.some((other) => sameValue(other, item))) out.push(item);
      }
      return out;
    }
    if (ours.length === b.length && theirs.length === b.length) {
      return b.map((item, i) =>
        merge(item, ours[i], theirs[i], [...path, i], options, conflicts)
      );
    }
  }
  const winner = pickWinner(ours, theirs, options);
  conflicts.push({
    path,
    base: base === ABSENT ? undefined : base,
    ours: ours === ABSENT ? undefined : ours,
    theirs: theirs === ABSENT ? undefined : theirs,
    winner,
  });
  return winner === "ours" ? ours : theirs;
}

function isPrefix(prefix: unknown[], array: unknown[]): boolean {
  if (prefix.length > array.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (!sameValue(prefix[i], array[i])) return false;
  }
  return true;
}

function pickWinner(
  ours: Maybe,
  theirs: Maybe,
  options: MergeOptions,
): "ours" | "theirs" {
  const a = options.oursDate?.getTime() ?? 0;
  const b = options.theirsDate?.getTime() ?? 0;
  if (a !== b) return a > b ? "ours" : "theirs";
  if (ours === ABSENT) return "theirs";
  if (theirs === ABSENT) return "ours";
  return compareBytes(canonical(ours), canonical(theirs)) > 0
    ? "ours"
    : "theirs";
}
