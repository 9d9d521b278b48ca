/**
 * The reference's layout rule after a `set`: walking from the old value to
 * the new one along every path whose ref changed, each inline child of a
 * multi-byte code is stored as a chunk of its own (so later path updates can
 * reference it by address). The reference does this while it computes which
 * paths changed; doing the same keeps our streams byte-identical to its.
 *
 * @module
 */

import type { ChunkStore } from "../codec/chunk_store.ts";
import { refsOf } from "../codec/decode.ts";
import { codeOfRef, storeCode } from "../codec/refs.ts";

function storedRef(chunks: ChunkStore, ref: number): number {
  // 1-byte codes keep their virtual address; longer inline codes and
  // positions inside chunks become chunks of their own.
  if (ref >= 0 ? chunks.isChunkEnd(ref) : ref >= -256) return ref;
  return storeCode(chunks, codeOfRef(chunks, ref).slice());
}

function refsForWrite(
  chunks: ChunkStore,
  ref: number,
): Record<string, number> | number[] | undefined {
  const refs = refsOf(chunks, ref);
  if (refs === undefined) return undefined;
  if (Array.isArray(refs)) {
    for (const key of Object.keys(refs)) {
      const i = Number(key);
      refs[i] = storedRef(chunks, refs[i]);
    }
  } else {
    for (const key of Object.keys(refs)) {
      refs[key] = storedRef(chunks, refs[key]);
    }
  }
  return refs;
}

/** Stores inline children along every path where `before` and `after` differ. */
export function materializeChanges(
  chunks: ChunkStore,
  before: number | undefined,
  after: number | undefined,
): void {
  if (before === after) return;
  const a = before === undefined ? undefined : refsForWrite(chunks, before);
  const b = after === undefined ? undefined : refsForWrite(chunks, after);
  if (a === undefined && b === undefined) return;
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  for (const key of keys) {
    const x = childOf(a, key);
    const y = childOf(b, key);
    if (x !== y) materializeChanges(chunks, x, y);
  }
}

/**
 * The child ref at `key`, own keys only: an array's `length` or an object's
 * inherited `toString`/`__proto__` are not children.
 */
function childOf(
  refs: Record<string, number> | number[] | undefined,
  key: string,
): number | undefined {
  if (refs === undefined || !Object.hasOwn(refs, key)) return undefined;
  if (Array.isArray(refs) && key === "length") return undefined;
  return (refs as Record<string, number>)[key];
}
