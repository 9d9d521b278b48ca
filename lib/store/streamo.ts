/**
 * `Streamo`: a reactive value over a content-addressed, append-only stream.
 *
 * @module
 */

import {
  batch,
  computed,
  effect,
  type ReadonlySignal,
  signal,
} from "@preact/signals-core";
import { ChunkStore, virtualAddress } from "../codec/chunk_store.ts";
import {
  arrayLength,
  checkRef,
  childRef,
  decodeCode,
  decodeRef,
  footerOf,
  refsOf,
  setOwn,
  unboxRef,
} from "../codec/decode.ts";
import { boxCode, encodeValue } from "../codec/encode.ts";
import {
  ARRAY,
  EMPTY_ARRAY,
  EMPTY_OBJECT,
  isSignatureFooter,
  VARIABLE,
} from "../codec/footers.ts";
import { storeCode, withChild } from "../codec/refs.ts";
import { materializeChanges } from "./materialize.ts";

/** A key in a path: an object key, or an array index. */
export type PathKey = string | number;

/**
 * A read-only reactive value: a `ReadonlySignal` of `@preact/signals-core`,
 * so Preact components (with `@preact/signals`) and `effect`s track it.
 */
export interface ValueSignal<T> {
  /** The current value; reading it inside a reactive scope subscribes. */
  readonly value: T;
  /** The current value, without subscribing. */
  peek(): T;
  /** Calls `fn` with the value now and on every change; returns a stop function. */
  subscribe(fn: (value: T) => void): () => void;
}

/** Options for {@linkcode Streamo}. */
export interface StreamoOptions {
  /** Bytes to reserve up front (the stream grows as needed). */
  capacity?: number;
}

const PATH_CACHE_SIZE = 1024;

function checkPath(path: unknown[], what: string): PathKey[] {
  for (const key of path) {
    if (
      typeof key !== "string" &&
      !(typeof key === "number" && Number.isInteger(key) && key >= 0)
    ) {
      throw new TypeError(
        `Cannot ${what}: path keys must be strings or non-negative integers, got ${
          typeof key === "number" ? key : typeof key
        }`,
      );
    }
  }
  return path as PathKey[];
}

function isContainerFooter(f: number): boolean {
  return f >= EMPTY_ARRAY && f < VARIABLE;
}

function isArrayFooter(f: number): boolean {
  return f === EMPTY_ARRAY || (f >= ARRAY && f < EMPTY_OBJECT);
}

/**
 * A reactive store: an append-only stream of chunks whose current value is
 * the last chunk that is not a SIGNATURE.
 *
 * Reads are reactive through `@preact/signals-core`: `get(...path)` inside an
 * `effect`, a `computed`, a {@linkcode Streamo.watch} callback or a Preact
 * component (with `@preact/signals`) re-runs when the value at that path
 * changes — by a local `set` or by bytes arriving — and not when another
 * path changes.
 *
 * @example
 * ```ts
 * import { Streamo } from "@streamo/streamo";
 * const s = new Streamo();
 * s.set({ name: "alice", messages: [] });
 * s.set("messages", 0, { text: "hi", at: 1 });
 * console.log(s.get("messages", 0, "text")); // "hi"
 * ```
 */
export class Streamo {
  /** The chunks under this store. @internal */
  protected readonly chunks: ChunkStore;
  #valueAddress = -1;
  readonly #root = signal<number | undefined>(undefined);
  readonly #length = signal(0);
  readonly #paths = new Map<string, ReadonlySignal<string>>();
  readonly #watchers = new Map<() => void, () => void>();

  /** Creates an empty store. */
  constructor(options: StreamoOptions = {}) {
    this.chunks = new ChunkStore(options.capacity);
  }

  /** Bytes in the stream (reactive). */
  get byteLength(): number {
    return this.#length.value;
  }

  /** Chunks in the stream. */
  get chunkCount(): number {
    this.#length.value;
    return this.chunks.chunkCount;
  }

  /**
   * Address of the current value: the last chunk appended that is not a
   * SIGNATURE, or the result of the last `set`; -1 when empty (reactive).
   */
  get valueAddress(): number {
    this.#root.value;
    return this.#valueAddress;
  }

  /**
   * Appends one code unless an equal chunk is stored; returns its address.
   * A non-SIGNATURE chunk becomes the current value. Throws a `SyntaxError`
   * or `RangeError` for a malformed code.
   */
  append(code: Uint8Array): number {
    const address = this.chunks.append(code);
    this.#appended(address, code[code.length - 1]);
    return address;
  }

  /**
   * Appends one code as a new chunk even when an equal chunk is stored, so
   * that a foreign stream can be copied byte for byte. Same checks as
   * `append`.
   */
  appendChunk(code: Uint8Array): number {
    const address = this.chunks.appendChunk(code);
    this.#appended(address, code[code.length - 1]);
    return address;
  }

  /**
   * Appends `chunks` byte for byte as one unit: either every chunk is
   * appended, or — when one is malformed or `accept` throws — none is, and
   * the error is rethrown. Readers see the range only once it is accepted.
   * `accept` gets the range's first offset and runs after the chunks are in
   * place, so it can decode them. Returns the first offset.
   */
  appendRange(
    chunks: readonly Uint8Array[],
    accept?: (start: number) => void,
  ): number {
    let total = 0;
    const ends = new Array<number>(chunks.length);
    for (let i = 0; i < chunks.length; i++) {
      total += chunks[i].length;
      ends[i] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < chunks.length; i++) {
      bytes.set(chunks[i], ends[i] - chunks[i].length);
    }
    return this.appendSpan(bytes, ends, accept);
  }

  /**
   * `appendRange` for chunks laid end to end in `bytes`: `ends` are the
   * exclusive end offsets of the chunks within `bytes`, increasing.
   */
  appendSpan(
    bytes: Uint8Array,
    ends: ArrayLike<number>,
    accept?: (start: number) => void,
  ): number {
    const start = this.chunks.appendSpan(bytes, ends);
    try {
      accept?.(start);
    } catch (error) {
      this.chunks.truncate(start);
      this.rangeRejected(start);
      throw error;
    }
    for (let i = ends.length - 1; i >= 0; i--) {
      const footer = bytes[ends[i] - 1];
      if (!isSignatureFooter(footer)) {
        this.#valueAddress = start + ends[i] - 1;
        break;
      }
    }
    this.rangeAppended(start, this.chunks.byteLength);
    this.changed();
    return start;
  }

  /** Called after `appendRange` accepted `[start, end)`. @internal */
  protected rangeAppended(_start: number, _end: number): void {}

  /** Called after `appendRange` undid a range from `start`. @internal */
  protected rangeRejected(_start: number): void {}

  #appended(address: number, footer: number): void {
    if (!isSignatureFooter(footer)) this.#valueAddress = address;
    this.changed();
  }

  /** True when `offset` is 0, the stream's end, or just after a chunk. */
  isChunkBoundary(offset: number): boolean {
    return offset === 0 || this.chunks.isChunkEnd(offset - 1);
  }

  /** Address of a stored chunk equal to `code`, or `undefined`. */
  addressOf(code: Uint8Array): number | undefined {
    return this.chunks.addressOf(code);
  }

  /**
   * A copy of the code of the chunk at `address`. Throws a `RangeError` for
   * an address past the end or inside a chunk.
   */
  resolve(address: number): Uint8Array {
    return this.chunks.resolve(address).slice();
  }

  /** A copy of the stream's bytes in `[start, end)`. */
  slice(start?: number, end?: number): Uint8Array {
    return this.chunks.slice(start, end);
  }

  /**
   * Encodes `value`, appending the sub-codes it needs, and returns its code
   * (not appended: pass it to `append`).
   */
  encode(value: unknown): Uint8Array {
    try {
      return encodeValue(this.chunks, value);
    } finally {
      this.changed();
    }
  }

  /**
   * Decodes the chunk at an address, or a standalone code. Throws a
   * `RangeError`/`SyntaxError` saying what is wrong with malformed input.
   */
  decode(addressOrCode: number | Uint8Array): unknown {
    if (typeof addressOrCode === "number") {
      if (addressOrCode >= 0 && !this.chunks.isChunkEnd(addressOrCode)) {
        this.chunks.resolve(addressOrCode); // throws, saying why
      }
      return decodeRef(this.chunks, addressOrCode);
    }
    return decodeCode(this.chunks, addressOrCode);
  }

  /**
   * The value at `path` inside the current value (the whole value with no
   * path); `undefined` where the path leads nowhere. Reactive per path.
   */
  get(...path: PathKey[]): unknown {
    checkPath(path, "get");
    if (path.length === 0) {
      const root = this.#root.value;
      return root === undefined ? undefined : decodeRef(this.chunks, root);
    }
    const token = this.#pathSignal(path).value;
    return this.#read(token, path);
  }

  /**
   * A read-only signal of the value at `path`, for binding in UIs; it
   * updates exactly when that path's value changes.
   */
  signal(...path: PathKey[]): ValueSignal<unknown> {
    checkPath(path, "make a signal");
    return computed(() => this.get(...path));
  }

  /**
   * Sets the whole value (`set(value)`) or the value at a path
   * (`set(...path, value)`); returns the new value's address. A path update
   * rebuilds only the nodes on the path and reuses the rest by address; on
   * an empty store a path builds nested objects.
   */
  set(...args: [...PathKey[], unknown]): number {
    if (args.length === 0) {
      throw new TypeError(
        "Cannot set: expected a value (and optionally a path before it)",
      );
    }
    const value = args[args.length - 1];
    const path = checkPath(args.slice(0, -1), "set");
    return this.#commitRoot(() =>
      this.writeValue(
        this.#valueAddress < 0 ? undefined : this.#valueAddress,
        path,
        value,
        true,
      )
    );
  }

  /**
   * Writes `value` at `path` inside the value at `root` (whole value for an
   * empty path or a missing root) and returns the new value's address,
   * without making it current. With `box`, a whole value that is stored but
   * is not `root` is boxed so that it lands on a new chunk. @internal
   */
  protected writeValue(
    root: number | undefined,
    path: PathKey[],
    value: unknown,
    box: boolean,
  ): number {
    if (path.length === 0 || root === undefined) {
      let whole = value;
      for (let i = path.length - 1; i >= 0; i--) {
        const outer: Record<string, unknown> = {};
        setOwn(outer, String(path[i]), whole);
        whole = outer;
      }
      return this.#storeWhole(whole, box ? root : undefined);
    }
    const nodes = this.#nodesAlong(root, path);
    const leaf = storeCode(this.chunks, encodeValue(this.chunks, value));
    return this.#rebuild(nodes, path, leaf);
  }

  /**
   * Like `writeValue` with the value given by ref. @internal
   */
  protected writeRef(
    root: number | undefined,
    path: PathKey[],
    ref: number,
  ): number {
    return this.#rebuild(this.#nodesAlong(root, path), path, ref);
  }

  /**
   * Refs (addresses, or negative virtual addresses of inline codes) of the
   * children of the object or array at `path`; the ref itself for a scalar;
   * `undefined` where the path leads nowhere. Reactive per path.
   */
  getRefs(
    ...path: PathKey[]
  ): Record<string, number> | number[] | number | undefined {
    checkPath(path, "get refs");
    let ref: number | undefined;
    if (path.length === 0) ref = this.#root.value;
    else {
      const token = this.#pathSignal(path).value;
      ref = token[0] === "r" ? Number(token.slice(1)) : undefined;
    }
    if (ref === undefined) return undefined;
    return refsOf(this.chunks, ref) ?? ref;
  }

  /**
   * Like `set(...path, value)` with the value given by ref (an address or
   * virtual address from `getRefs`). Needs at least one path key.
   */
  setRefs(...args: [...PathKey[], number]): number {
    const ref = args[args.length - 1];
    const path = checkPath(args.slice(0, -1), "set refs");
    if (path.length === 0 || typeof ref !== "number") {
      throw new TypeError("Cannot set refs: expected a path and then a ref");
    }
    this.checkRef(ref);
    return this.#commitRoot(() =>
      this.writeRef(
        this.#valueAddress < 0 ? undefined : this.#valueAddress,
        path,
        ref,
      )
    );
  }

  /**
   * The ref at `path` from `root` (boxes unwrapped), or `undefined`; not
   * reactive. @internal
   */
  protected refAt(root: number, path: PathKey[]): number | undefined {
    let ref: number | undefined = unboxRef(this.chunks, root);
    for (const key of path) {
      if (ref === undefined) return undefined;
      ref = childRef(this.chunks, ref, key);
      if (ref !== undefined) ref = unboxRef(this.chunks, ref);
    }
    return ref;
  }

  /** Throws a `RangeError` unless `ref` names a code in this store. @internal */
  protected checkRef(ref: number): void {
    checkRef(this.chunks, ref);
  }

  /**
   * Runs `f` now and again whenever a value it read changes; `name` labels
   * it in errors. Returns a function that stops it (as does `unwatch(f)`).
   */
  watch(name: string, f: () => void): () => void {
    this.unwatch(f);
    const dispose = effect(() => {
      try {
        f();
      } catch (error) {
        throw new Error(`Watcher ${JSON.stringify(name)} failed`, {
          cause: error,
        });
      }
    });
    this.#watchers.set(f, dispose);
    return () => this.unwatch(f);
  }

  /** Stops a watcher started with `watch`. */
  unwatch(f: () => void): void {
    const dispose = this.#watchers.get(f);
    if (dispose) {
      this.#watchers.delete(f);
      dispose();
    }
  }

  /**
   * A new, independent Streamo holding this stream up to and including the
   * chunk at `address` (default: the whole stream).
   */
  clone(address: number = this.chunks.byteLength - 1): Streamo {
    const copy = new Streamo();
    this.cloneInto(copy, address);
    return copy;
  }

  /** Fills an empty `target` with this stream up to `address`. @internal */
  protected cloneInto(target: Streamo, address: number): void {
    if (address >= 0) this.chunks.resolve(address);
    const chunks = this.chunks.prefix(address + 1);
    (target as unknown as { chunks: ChunkStore }).chunks = chunks;
    let value = chunks.lastChunkAtOrBefore(address);
    while (value >= 0) {
      const f = chunks.buffer[value];
      if (!isSignatureFooter(f)) break;
      value = chunks.lastChunkAtOrBefore(value - chunks.resolve(value).length);
    }
    target.#valueAddress = value;
    target.changed();
  }

  /**
   * The ref of the value the current value address stands for; subclasses
   * (Repo) read through a commit record. `undefined` when there is none.
   */
  protected rootOf(valueAddress: number): number | undefined {
    return valueAddress < 0 ? undefined : valueAddress;
  }

  /** Publishes new bytes and the current root to readers. @internal */
  protected changed(): void {
    batch(() => {
      this.#length.value = this.chunks.byteLength;
      this.#root.value = this.rootOf(this.#valueAddress);
    });
  }

  /** Replaces the current value address (no bytes appended). @internal */
  protected setValueAddress(address: number): void {
    this.#valueAddress = address;
    this.changed();
  }

  #commitRoot(write: () => number): number {
    const before = this.#valueAddress;
    const hadBytes = this.chunks.byteLength > 0;
    let address: number;
    try {
      address = write();
      if (address !== before) {
        materializeChanges(
          this.chunks,
          hadBytes && before >= 0 ? before : undefined,
          address,
        );
        this.#valueAddress = address;
      }
    } finally {
      this.changed();
    }
    return address;
  }

  #storeWhole(value: unknown, current: number | undefined): number {
    let code = encodeValue(this.chunks, value);
    for (;;) {
      const existing = this.chunks.lookup(code);
      if (existing === undefined) return this.chunks.appendNew(code);
      if (current === undefined || existing === current) return existing;
      // Ours: the value is stored but is not current, so box it to make it
      // the newest chunk (the reference silently keeps the old value).
      code = boxCode(this.chunks, code);
    }
  }

  /** Refs of the containers along `path` (the last is the leaf's parent). */
  #nodesAlong(
    root: number | undefined,
    path: PathKey[],
  ): (number | undefined)[] {
    const nodes: (number | undefined)[] = [root];
    let node = root;
    for (let i = 0; i < path.length; i++) {
      // A VARIABLE box (a re-set stored value) holds its container inside.
      if (node !== undefined) node = unboxRef(this.chunks, node);
      if (
        node !== undefined && !isContainerFooter(footerOf(this.chunks, node))
      ) {
        throw new TypeError(
          `Cannot set ${formatPath(path)}: ${
            formatPath(path.slice(0, i))
          } is not an object or array`,
        );
      }
      // Checked here, before anything is appended.
      if (
        node !== undefined && isArrayFooter(footerOf(this.chunks, node)) &&
        !isIndexKey(path[i])
      ) {
        throw new TypeError(
          `Cannot set ${formatPath(path)}: ${
            formatPath(path.slice(0, i))
          } is an array and ${JSON.stringify(path[i])} is not an index`,
        );
      }
      if (i === path.length - 1) break;
      node = node === undefined
        ? undefined
        : childRef(this.chunks, node, path[i]);
      nodes.push(node);
    }
    return nodes;
  }

  #rebuild(
    nodes: (number | undefined)[],
    path: PathKey[],
    leaf: number,
  ): number {
    let child = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      child = withChild(this.chunks, nodes[i], path[i], child);
    }
    return child;
  }

  #pathSignal(path: PathKey[]): ReadonlySignal<string> {
    const key = JSON.stringify(path);
    let found = this.#paths.get(key);
    if (found) {
      // Refresh its place in the LRU order.
      this.#paths.delete(key);
      this.#paths.set(key, found);
      return found;
    }
    const keys = path.slice();
    found = computed(() => this.#locate(this.#root.value, keys));
    this.#paths.set(key, found);
    if (this.#paths.size > PATH_CACHE_SIZE) {
      this.#paths.delete(this.#paths.keys().next().value!);
    }
    return found;
  }

  /**
   * Where `path` leads from `root`, as a token that is equal exactly when
   * the value there is unchanged: `r<ref>` (a node), `p<i>:<ref>` (a scalar
   * reached after i keys), `l<n>` (an array's length), `u` (nowhere).
   */
  #locate(root: number | undefined, path: PathKey[]): string {
    let ref = root;
    for (let i = 0; i < path.length; i++) {
      if (ref === undefined) return "u";
      ref = unboxRef(this.chunks, ref);
      const f = footerOf(this.chunks, ref);
      if (!isContainerFooter(f)) return `p${i}:${this.#canonical(ref)}`;
      if (path[i] === "length" && isArrayFooter(f)) {
        const n = arrayLength(this.chunks, ref);
        return i === path.length - 1 ? `l${n}` : "u";
      }
      ref = childRef(this.chunks, ref, path[i]);
    }
    return ref === undefined ? "u" : `r${this.#canonical(ref)}`;
  }

  /**
   * The same ref for equal short codes whether they are stored or inline: a
   * path update stores small leaves as chunks, and rebuilt siblings then
   * name them by address; readers of an unchanged path must not re-run.
   */
  #canonical(ref: number): number {
    if (ref < 0 || !this.chunks.isChunkEnd(ref)) return ref;
    const code = this.chunks.resolve(ref);
    return code.length <= 4 ? virtualAddress(code) : ref;
  }

  #read(token: string, path: PathKey[]): unknown {
    switch (token[0]) {
      case "r":
        return decodeRef(this.chunks, Number(token.slice(1)));
      case "l":
        return Number(token.slice(1));
      case "p": {
        const colon = token.indexOf(":");
        const consumed = Number(token.slice(1, colon));
        let value = decodeRef(this.chunks, Number(token.slice(colon + 1)));
        for (const key of path.slice(consumed)) {
          value = scalarPart(value, key);
        }
        return value;
      }
      default:
        return undefined;
    }
  }
}

function isIndexKey(key: PathKey): boolean {
  const n = typeof key === "number" ? key : Number(key);
  return Number.isInteger(n) && n >= 0 && String(n) === String(key);
}

function formatPath(path: PathKey[]): string {
  return path.length === 0 ? "the value" : path.map((k) => String(k)).join(".");
}

/**
 * What `key` reads of a scalar: a string's or byte array's `length` or
 * item; nothing else (no inherited properties such as `toFixed`).
 */
function scalarPart(value: unknown, key: PathKey): unknown {
  if (typeof value === "string" || value instanceof Uint8Array) {
    if (key === "length") return value.length;
    if (isIndexKey(key)) return value[Number(key)];
  }
  return undefined;
}
