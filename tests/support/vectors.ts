/**
 * Loads the reference implementation's byte vectors and turns their tagged
 * JSON values into JavaScript values.
 *
 * @module
 */

import { hexToBytes, Signature } from "../../lib/mod.ts";

const VECTORS_URL = new URL(
  "../../../shared/vectors/streamo-0.2.1-vectors.json",
  import.meta.url,
);
const LOCAL_URL = new URL(
  "../vectors/streamo-0.2.1-vectors.json",
  import.meta.url,
);

/** A `single[]` case. */
export interface SingleCase {
  value: unknown;
  code: string;
  address: number;
  stream: string;
  chunks: string[];
}

/** A `sequences[]` case. */
export interface SequenceCase {
  steps: {
    args: unknown[];
    address: number;
    byteLength: number;
    value: unknown;
  }[];
  stream: string;
  chunks: string[];
}

/** A `signer[]` case. */
export interface SignerCase {
  username: string;
  password: string;
  iterations: number;
  name: string;
  privateKey: string;
  publicKey: string;
  signatures: { bytes: string; signature: string; verifies: boolean }[];
}

/** A `repos[]` case. */
export interface RepoCase {
  username: string;
  password: string;
  iterations: number;
  name: string;
  publicKey: string;
  steps: {
    value: unknown;
    message: string;
    commitAddress: number;
    byteLength: number;
    date: unknown;
  }[];
  stream: string;
  wireFrames: string[];
  lastCommit: unknown;
  history: unknown[];
}

/** The whole vector file. */
export interface Vectors {
  single: SingleCase[];
  sequences: SequenceCase[];
  signer: SignerCase[];
  repos: RepoCase[];
}

/** Reads the vector file (the repo's copy, else the shared one). */
export async function loadVectors(): Promise<Vectors> {
  for (const url of [LOCAL_URL, VECTORS_URL]) {
    try {
      return JSON.parse(await Deno.readTextFile(url));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new Error(`Vector file not found at ${LOCAL_URL} or ${VECTORS_URL}`);
}

/** Turns a tagged JSON value into the JavaScript value it stands for. */
export function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value === null || typeof value !== "object") return value;
  const tagged = value as Record<string, unknown>;
  if ("$undefined" in tagged) return undefined;
  if ("$date" in tagged) return new Date(tagged.$date as number);
  if ("$bytes" in tagged) return hexToBytes(tagged.$bytes as string);
  if ("$number" in tagged) {
    return { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 }[
      tagged.$number as string
    ];
  }
  if ("$signature" in tagged) {
    const { address, bytes } = tagged.$signature as {
      address: number;
      bytes: string;
    };
    return new Signature(address, hexToBytes(bytes));
  }
  const source = "$object" in tagged
    ? tagged.$object as Record<string, unknown>
    : tagged;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) out[key] = untag(item);
  return out;
}

/** The value a decode must return: like `untag`, with `-0` read back as `0`. */
export function expected(value: unknown): unknown {
  const v = untag(value);
  return normalizeZero(v);
}

function normalizeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalizeZero);
  if (
    value !== null && typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeZero(v);
    return out;
  }
  return value;
}
