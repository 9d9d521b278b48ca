/**
 * Reading and checking commit records (SPEC §3).
 *
 * @module
 */

import type { ChunkStore } from "../codec/chunk_store.ts";
import { decodeRef } from "../codec/decode.ts";
import { OBJECT, VARIABLE } from "../codec/footers.ts";
import type { Commit } from "./repo.ts";

const KEYS = ["message", "date", "dataAddress", "parent"];

function isAddressIn(
  chunks: ChunkStore,
  value: unknown,
  before: number,
): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value < before && chunks.isChunkEnd(value);
}

/**
 * The commit record stored at `address`, or `undefined` if that chunk is not
 * a well-formed one: an OBJECT with exactly the keys `message` (string),
 * `date` (valid Date), `dataAddress` and `parent` (addresses of earlier
 * chunks; `parent` may be undefined), in that order.
 */
export function readCommitRecord(
  chunks: ChunkStore,
  address: number,
): Commit | undefined {
  if (!chunks.isChunkEnd(address)) return undefined;
  const footer = chunks.buffer[address];
  if (footer < OBJECT || footer >= VARIABLE) return undefined;
  let value: unknown;
  try {
    value = decodeRef(chunks, address);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return undefined;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== 4 || keys.some((k, i) => k !== KEYS[i])) return undefined;
  const start = chunks.chunkStart(address);
  const { message, date, dataAddress, parent } = record;
  if (typeof message !== "string") return undefined;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return undefined;
  if (!isAddressIn(chunks, dataAddress, start)) return undefined;
  if (parent !== undefined && !isAddressIn(chunks, parent, start)) {
    return undefined;
  }
  return {
    address,
    message,
    date,
    dataAddress: dataAddress as number,
    parent: parent as number | undefined,
  };
}
