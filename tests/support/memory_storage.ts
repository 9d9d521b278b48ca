/**
 * An in-memory `StorageDriver` for tests, recording every call.
 *
 * @module
 */

import type { StorageDriver } from "../../lib/storage/types.ts";

/** Stores ranges in memory; `failAppends` makes `append` reject. */
export class MemoryStorage implements StorageDriver {
  readonly name = "memory";
  readonly streams = new Map<string, Uint8Array[]>();
  readonly appends: { key: string; offset: number; bytes: number }[] = [];
  readonly replaces: { key: string; offset: number; bytes: number }[] = [];
  failAppends = false;
  flushes = 0;

  load(key: string): Promise<Uint8Array[]> {
    return Promise.resolve([...(this.streams.get(key) ?? [])]);
  }

  append(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    if (this.failAppends) {
      return Promise.reject(new Error("disk full"));
    }
    const stored = this.streams.get(key) ?? [];
    const length = stored.reduce((n, c) => n + c.length, 0);
    if (offset !== length) {
      return Promise.reject(
        new Error(`append at ${offset}, but ${length} bytes are stored`),
      );
    }
    stored.push(...chunks.map((c) => c.slice()));
    this.streams.set(key, stored);
    this.appends.push({
      key,
      offset,
      bytes: chunks.reduce((n, c) => n + c.length, 0),
    });
    return Promise.resolve();
  }

  /** Replaces the chunks from stream offset `offset` (a chunk boundary) on. */
  replace(key: string, offset: number, chunks: Uint8Array[]): Promise<void> {
    const stored = this.streams.get(key) ?? [];
    let at = 0;
    let index = 0;
    while (at < offset && index < stored.length) at += stored[index++].length;
    if (at !== offset) {
      return Promise.reject(
        new RangeError(`replace at ${offset}, not a stored chunk boundary`),
      );
    }
    this.streams.set(key, [
      ...stored.slice(0, index),
      ...chunks.map((c) => c.slice()),
    ]);
    this.replaces.push({
      key,
      offset,
      bytes: chunks.reduce((n, c) => n + c.length, 0),
    });
    return Promise.resolve();
  }

  keys(): Promise<string[]> {
    return Promise.resolve([...this.streams.keys()]);
  }

  flush(): Promise<void> {
    this.flushes++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Bytes stored for `key`. */
  length(key: string): number {
    return (this.streams.get(key) ?? []).reduce((n, c) => n + c.length, 0);
  }
}
