/**
 * `Repo`: a Streamo whose every write is a commit, signed by its owner
 * (SPEC §3, §4).
 *
 * @module
 */

import { sha256 } from "../identity/sha256.ts";
import { arrayLength } from "../codec/decode.ts";
import { encodeValue } from "../codec/encode.ts";
import { bytesToHex } from "../codec/hex.ts";
import { Signature } from "../codec/signature.ts";
import { isSignatureFooter, SIGNATURE } from "../codec/footers.ts";
import { getBackend } from "../identity/secp256k1.ts";
import { type PathKey, Streamo, type StreamoOptions } from "./streamo.ts";
import { readCommitRecord } from "./commit_record.ts";
import { type MergeConflict, mergeValues, sameValue } from "./merge.ts";

export { readCommitRecord };

/** A commit record as stored (SPEC §3): keys in exactly this order. */
export interface CommitRecord {
  /** Free text describing the change ("" by default). */
  message: string;
  /** When the commit was made (the repo's clock). */
  date: Date;
  /** Address of the committed value. */
  dataAddress: number;
  /** Address of the previous commit record; `undefined` on the first. */
  parent: number | undefined;
}

/** A commit record and where it is stored. */
export interface Commit extends CommitRecord {
  /** Address of this commit record. */
  address: number;
}

/** What a Repo needs of an identity to sign: `Signer` fits. */
export interface RepoSigner {
  /** The keypair of the repo called `name`. */
  keysFor(
    name: string,
  ): Promise<{ privateKey: Uint8Array; publicKey: Uint8Array }>;
}

/** A range of a repo's stream that is signed and verified. */
export interface VerifiedRange {
  /** Offset of the range's first byte in the stream. */
  offset: number;
  /** Offset just past the range's last byte. */
  end: number;
  /**
   * The range's chunks, in order; it ends with a SIGNATURE chunk. They are
   * copied from the stream when first read, so a listener that needs only
   * `offset` and `end` costs nothing per chunk; read them during the
   * listener call (a later rebase may replace those bytes).
   */
  readonly chunks: Uint8Array[];
}

/** What a rebase did (see {@linkcode Repo.rebaseOnto}). */
export interface RebaseResult {
  /** Length of the history both sides shared; ours was replaced after it. */
  forkLength: number;
  /** Address of the commit holding the merged value, if one was needed. */
  commit: number | undefined;
  /** True conflicts the merge resolved (later commit date wins). */
  conflicts: MergeConflict[];
}

/** A replaced tail of the stream: everything from `offset` on is new. */
export interface RewrittenRange extends VerifiedRange {}

/** Options for {@linkcode Repo}. */
export interface RepoOptions extends StreamoOptions {
  /** The clock for commit dates (ms since epoch or a Date); default `Date.now`. */
  now?: () => number | Date;
  /** The repo's public key (66 hex chars), when known up front. */
  key?: string;
}

/**
 * A commit log: every write appends the new value's chunks and then a
 * commit record `{ message, date, dataAddress, parent }`; `get` reads the
 * last commit's data. With a signer attached, commits are signed right
 * after they are made (commits made in the same tick share a signature).
 *
 * @example
 * ```ts
 * import { Repo } from "@streamo/streamo";
 * const repo = new Repo();
 * repo.set({ name: "alice", messages: [] });
 * repo.push("messages", { text: "hi", at: 1 });
 * console.log(repo.get("messages", "length")); // 1
 * console.log(repo.history().length); // 2
 * ```
 */
export class Repo extends Streamo {
  readonly #now: () => number | Date;
  #key: string | undefined;
  #signer:
    | {
      name: string;
      keys: Promise<{ privateKey: Uint8Array; publicKey: Uint8Array }>;
    }
    | undefined;
  #signing: Promise<void> | undefined;
  #signError: unknown;
  #signedLength = 0;
  #lastSignatureStart = -1;
  // Where each SIGNATURE chunk ends (exclusive), in stream order.
  #signatureEnds: number[] = [];
  readonly #verified = new Set<(range: VerifiedRange) => void>();
  readonly #rewritten = new Set<(range: RewrittenRange) => void>();
  readonly #rebased = new Set<(result: RebaseResult) => void>();
  #rebasing = false;
  #record: { address: number; commit: Commit | undefined } | undefined;

  /** Creates an empty repo. */
  constructor(options: RepoOptions = {}) {
    super(options);
    this.#now = options.now ?? Date.now;
    this.#key = options.key;
  }

  /** The repo's public key (hex), once known. */
  get key(): string | undefined {
    return this.#key;
  }

  /** Whether a signer is attached (this device writes the repo). */
  get canSign(): boolean {
    return this.#signer !== undefined;
  }

  /** Bytes up to and including the last SIGNATURE chunk. */
  get signedLength(): number {
    this.byteLength;
    return this.#signedLength;
  }

  /** Where the last SIGNATURE chunk starts, or -1 if there is none. */
  get lastSignatureStart(): number {
    return this.#lastSignatureStart;
  }

  /** The last commit, or `undefined` for an empty repo (reactive). */
  get lastCommit(): Commit | undefined {
    return this.#commitAt(this.valueAddress);
  }

  /** Address of the last commit record, or -1 (reactive). */
  get lastCommitAddress(): number {
    return this.lastCommit?.address ?? -1;
  }

  /** Every commit, newest first, following `parent` links. */
  history(): Commit[] {
    const out: Commit[] = [];
    let commit = this.lastCommit;
    while (commit) {
      out.push(commit);
      if (commit.parent === undefined) break;
      if (commit.parent >= commit.address) {
        throw new RangeError(
          `Cannot walk history: commit at ${commit.address} names a later parent ${commit.parent}`,
        );
      }
      commit = this.#commitAt(commit.parent);
    }
    return out;
  }

  /** A working copy of the current value, to change and then `commit`. */
  checkout(): Streamo {
    const data = this.lastCommit?.dataAddress;
    if (data === undefined) return new Streamo();
    return this.clone(data);
  }

  /**
   * Commits the value of a working copy (from `checkout`): appends the
   * chunks it needs that are not stored yet, then the commit record.
   * Returns the commit record's address.
   */
  commit(working: Streamo, message = ""): number {
    if (!(working instanceof Streamo)) {
      throw new TypeError(
        "Cannot commit: expected a working copy from checkout()",
      );
    }
    if (typeof message !== "string") {
      throw new TypeError("Cannot commit: the message must be a string");
    }
    const value = working.get();
    return this.#commitData(
      () => this.writeValue(undefined, [], value, false),
      message,
    );
  }

  /**
   * Commits a change: `set(value)` replaces the value, `set(...path, value)`
   * changes one path (rebuilding only the nodes on it — O(log n) for an
   * array of n items). Returns the commit record's address.
   */
  override set(...args: [...PathKey[], unknown]): number {
    if (args.length === 0) {
      throw new TypeError(
        "Cannot set: expected a value (and optionally a path before it)",
      );
    }
    const value = args[args.length - 1];
    const path = args.slice(0, -1) as PathKey[];
    return this.#commitData(
      () => this.writeValue(this.lastCommit?.dataAddress, path, value, false),
      "",
    );
  }

  /**
   * Commits `value` as the new last item of the array at `path` (O(log n));
   * a missing path becomes a one-item array.
   */
  push(...args: [...PathKey[], unknown]): number {
    if (args.length === 0) throw new TypeError("Cannot push: expected a value");
    const value = args[args.length - 1];
    const path = args.slice(0, -1) as PathKey[];
    const root = this.lastCommit?.dataAddress;
    const ref = root === undefined ? undefined : this.refAt(root, path);
    if (ref === undefined) return this.set(...path, [value]);
    const length = arrayLength(this.chunks, ref);
    if (length === undefined) {
      throw new TypeError(
        `Cannot push: the value at ${
          path.join(".") || "the root"
        } is not an array`,
      );
    }
    return this.set(...path, length, value);
  }

  /** Like `set(...path, ref)` with the value given by ref. */
  override setRefs(...args: [...PathKey[], number]): number {
    const ref = args[args.length - 1];
    const path = args.slice(0, -1) as PathKey[];
    if (path.length === 0 || typeof ref !== "number") {
      throw new TypeError("Cannot set refs: expected a path and then a ref");
    }
    this.checkRef(ref);
    return this.#commitData(
      () => this.writeRef(this.lastCommit?.dataAddress, path, ref),
      "",
    );
  }

  /**
   * Signs this repo's commits from now on with `signer`'s key for `name`,
   * including any commits not signed yet. Resolves once the key is derived;
   * throws a `TypeError` if the key differs from the repo's key.
   */
  async attachSigner(signer: RepoSigner, name: string): Promise<void> {
    const keys = signer.keysFor(name);
    this.#signer = { name, keys };
    const { publicKey } = await keys;
    const hex = bytesToHex(publicKey);
    if (this.#key !== undefined && this.#key !== hex) {
      this.#signer = undefined;
      throw new TypeError(
        `Cannot attach signer: it derives key ${
          hex.slice(0, 8)
        }… for "${name}", but this repo belongs to ${this.#key.slice(0, 8)}…`,
      );
    }
    this.#key = hex;
    this.#scheduleSign();
    await this.whenSigned();
  }

  /**
   * Stops signing (sign-out): commits made afterwards stay unsigned until a
   * signer is attached again. Forgets the derived keys.
   */
  detachSigner(): void {
    this.#signer = undefined;
  }

  /** Resolves once every commit made so far is signed. */
  async whenSigned(): Promise<void> {
    while (this.#signing) await this.#signing;
    if (this.#signError) {
      const error = this.#signError;
      this.#signError = undefined;
      throw error;
    }
  }

  /**
   * Calls `listener` when a rebase replaced the stream's tail: the range
   * holds everything from the fork point on (storage must replace, not
   * append). `onVerified` does not fire for the ranges of a rebase.
   */
  onRewrite(listener: (range: RewrittenRange) => void): () => void {
    this.#rewritten.add(listener);
    return () => this.#rewritten.delete(listener);
  }

  /** Calls `listener` after every rebase, with what it did. */
  onRebase(listener: (result: RebaseResult) => void): () => void {
    this.#rebased.add(listener);
    return () => this.#rebased.delete(listener);
  }

  /**
   * Checkpoints of this repo's signed history, for peers to find how much of
   * it they share: `[end, fingerprint]` pairs where `end` is where a
   * SIGNATURE chunk ends and `fingerprint` the hex of its first 8 signature
   * bytes — the last `recent` signatures, then ever sparser older ones.
   */
  checkpoints(recent = 16): [number, string][] {
    const ends = this.#signatureEnds;
    const out: [number, string][] = [];
    const n = ends.length;
    for (let back = 1, step = 1; back <= n; back += step) {
      const end = ends[n - back];
      out.push([end, this.fingerprintAt(end)!]);
      if (out.length >= recent) step *= 2;
    }
    return out;
  }

  /**
   * The fingerprint (hex of the first 8 signature bytes) of the SIGNATURE
   * chunk ending right before `end`, or `undefined` if none ends there.
   */
  fingerprintAt(end: number): string | undefined {
    if (
      end <= 0 || end > this.#signedLength || !this.chunks.isChunkEnd(end - 1)
    ) {
      return undefined;
    }
    const footer = this.chunks.buffer[end - 1];
    if (!isSignatureFooter(footer)) return undefined;
    const width = footer - SIGNATURE + 1;
    const code = this.chunks.resolve(end - 1);
    return bytesToHex(code.subarray(width, width + 8));
  }

  /**
   * The largest checkpoint `end` (see `checkpoints`) at which this repo has
   * the same SIGNATURE chunk, or 0: how much of `checkpoints`' history this
   * repo provably shares.
   */
  agreement(checkpoints: readonly (readonly [number, string])[]): number {
    let best = 0;
    for (const [end, fingerprint] of checkpoints) {
      if (end > best && this.fingerprintAt(end) === fingerprint) best = end;
    }
    return best;
  }

  /**
   * Length of the longest prefix this repo shares with `other` that ends
   * right after a SIGNATURE chunk in both (0 if none).
   */
  commonSignedLength(other: Repo): number {
    const mine = this.chunks.view(0, this.#signedLength);
    const theirs = other.view(0, other.signedLength);
    const n = Math.min(mine.length, theirs.length);
    let same = 0;
    while (same < n && mine[same] === theirs[same]) same++;
    for (let a = this.chunks.lastChunkAtOrBefore(same - 1); a >= 0;) {
      if (isSignatureFooter(mine[a]) && other.isChunkBoundary(a + 1)) {
        return a + 1;
      }
      a = this.chunks.lastChunkAtOrBefore(this.chunks.chunkStart(a) - 1);
    }
    return 0;
  }

  /**
   * Rebases this repo onto `theirs`, a copy of the same repo (same key)
   * whose history another device got accepted first: our commits after the
   * shared history are set aside, their history is adopted byte for byte,
   * and our changes are merged (three-way: the value at the fork, ours,
   * theirs; see {@linkcode mergeValues}) into one new commit on top, signed
   * if a signer is attached. Resolves once it is signed.
   */
  async rebaseOnto(theirs: Repo): Promise<RebaseResult> {
    if (!(theirs instanceof Repo) || theirs.key !== this.key) {
      throw new TypeError(
        "Cannot rebase: expected a copy of the same repo (same key)",
      );
    }
    const forkLength = this.commonSignedLength(theirs);
    if (forkLength >= this.byteLength) {
      // Nothing of ours to set aside: fast-forward.
      this.appendRange(theirs.chunksBetween(this.byteLength));
      return { forkLength, commit: undefined, conflicts: [] };
    }
    const oursCommit = this.lastCommit;
    const baseCommit = this.history().find((c) => c.address < forkLength);
    const base = baseCommit === undefined
      ? undefined
      : this.decode(baseCommit.dataAddress);
    const ours = this.get();
    const theirsValue = theirs.get();
    const merge = mergeValues(base, ours, theirsValue, {
      oursDate: oursCommit?.date,
      theirsDate: theirs.lastCommit?.date,
    });
    this.#rebasing = true;
    let commit: number | undefined;
    try {
      this.#rewind(forkLength);
      this.appendRange(theirs.chunksBetween(forkLength));
      if (!sameValue(merge.value, this.get())) {
        commit = this.#commitData(
          () => this.writeValue(undefined, [], merge.value, false),
          "rebase",
        );
        await this.whenSigned();
      }
    } finally {
      this.#rebasing = false;
    }
    const range = this.#range(forkLength, this.#signedLength);
    for (const listener of this.#rewritten) listener(range);
    const result = { forkLength, commit, conflicts: merge.conflicts };
    for (const listener of this.#rebased) listener(result);
    return result;
  }

  /** Drops everything after `length` (a signed boundary). */
  #rewind(length: number): void {
    this.chunks.truncate(length);
    while (this.#signatureEnds.length && this.#signatureEnds.at(-1)! > length) {
      this.#signatureEnds.pop();
    }
    this.#record = undefined;
    this.#signedLength = length;
    this.#lastSignatureStart = length === 0
      ? -1
      : this.chunks.chunkStart(length - 1);
    let value = length - 1;
    while (value >= 0 && isSignatureFooter(this.chunks.buffer[value])) {
      value = this.chunks.chunkStart(value) - 1;
    }
    this.setValueAddress(value);
  }

  /** Calls `listener` with every range that becomes signed and verified. */
  onVerified(listener: (range: VerifiedRange) => void): () => void {
    this.#verified.add(listener);
    return () => this.#verified.delete(listener);
  }

  /** A read-only view of the stream's bytes in `[start, end)`. */
  view(start: number, end: number): Uint8Array {
    return this.chunks.view(start, end);
  }

  /**
   * Copies of the chunks from `offset` (a chunk boundary) up to `end`
   * (default: the signed length).
   */
  chunksBetween(
    offset: number,
    end: number = this.#signedLength,
  ): Uint8Array[] {
    const out: Uint8Array[] = [];
    const stop = Math.min(end, this.chunks.byteLength);
    if (offset > 0 && offset < stop && !this.chunks.isChunkEnd(offset - 1)) {
      throw new RangeError(
        `Cannot read chunks from ${offset}: not a chunk boundary`,
      );
    }
    if (offset >= stop) return out;
    // One copy of the range, and a view of it per chunk: chunks are tiny,
    // and one allocation per chunk would cost more than the copy.
    const copy = this.chunks.buffer.slice(offset, stop);
    let start = 0;
    for (let a = offset; a < stop; a++) {
      if (this.chunks.isChunkEnd(a)) {
        out.push(copy.subarray(start, a + 1 - offset));
        start = a + 1 - offset;
      }
    }
    return out;
  }

  /** A range whose chunks are copied when first read. */
  #range(offset: number, end: number): VerifiedRange {
    let chunks: Uint8Array[] | undefined;
    const copy = () => this.chunksBetween(offset, end);
    return {
      offset,
      end,
      get chunks() {
        return chunks ??= copy();
      },
    };
  }

  /** A repo's value is its last commit's data. @internal */
  protected override rootOf(valueAddress: number): number | undefined {
    return this.#commitAt(valueAddress)?.dataAddress;
  }

  /** Forgets what was read from an undone range. @internal */
  protected override rangeRejected(start: number): void {
    if (this.#record && this.#record.address >= start) this.#record = undefined;
  }

  /** Tracks signatures in ranges from ingest or storage. @internal */
  protected override rangeAppended(start: number, end: number): void {
    // Ranges come from ingest or storage: they end with a SIGNATURE chunk.
    let last = -1;
    const buf = this.chunks.buffer;
    for (let a = start; a < end; a++) {
      if (this.chunks.isChunkEnd(a) && isSignatureFooter(buf[a])) {
        this.#signatureEnds.push(a + 1);
        last = a;
      }
    }
    if (last < 0) return;
    this.#lastSignatureStart = this.chunks.chunkStart(last);
    this.#markVerified(last + 1);
  }

  #markVerified(end: number): void {
    const offset = this.#signedLength;
    if (end <= offset) return;
    this.#signedLength = end;
    if (this.#verified.size === 0 || this.#rebasing) return;
    const range = this.#range(offset, end);
    for (const listener of this.#verified) listener(range);
  }

  /**
   * The commit record at `address`, or `undefined` if that chunk is not a
   * well-formed commit record.
   */
  commitAt(address: number): Commit | undefined {
    return this.#commitAt(address);
  }

  #commitAt(address: number): Commit | undefined {
    if (address < 0) return undefined;
    if (this.#record?.address === address) return this.#record.commit;
    const commit = readCommitRecord(this.chunks, address);
    this.#record = { address, commit };
    return commit;
  }

  #commitData(write: () => number, message: string): number {
    const dataAddress = write();
    const parent = this.lastCommitAddress;
    const now = this.#now();
    const record: CommitRecord = {
      message,
      date: now instanceof Date ? now : new Date(now),
      dataAddress,
      parent: parent < 0 ? undefined : parent,
    };
    const address = this.chunks.appendChunk(encodeValue(this.chunks, record));
    this.setValueAddress(address);
    this.#scheduleSign();
    return address;
  }

  #scheduleSign(): void {
    if (!this.#signer || this.#signing) return;
    const signer = this.#signer;
    this.#signing = (async () => {
      try {
        const { privateKey } = await signer.keys;
        // Let commits made in this tick join the signature.
        await Promise.resolve();
        if (this.#signer === signer) this.#signNow(privateKey);
      } catch (error) {
        this.#signError = error;
      } finally {
        this.#signing = undefined;
      }
    })();
  }

  /** Appends one SIGNATURE chunk over everything not signed yet. */
  #signNow(privateKey: Uint8Array): void {
    const start = this.chunks.byteLength;
    if (start <= this.#signedLength) return;
    const from = Math.max(0, this.#lastSignatureStart);
    const hash = sha256(this.chunks.view(from, start - 1));
    const bytes = getBackend().sign(hash, privateKey);
    this.chunks.appendChunk(
      encodeValue(this.chunks, new Signature(from, bytes)),
    );
    this.#lastSignatureStart = start;
    this.#signatureEnds.push(this.chunks.byteLength);
    this.changed();
    this.#markVerified(this.chunks.byteLength);
  }
}
