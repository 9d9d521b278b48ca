/**
 * Preact binding for streamo: the signals bridge and islands.
 *
 * Importing this module loads `@preact/signals`, which makes every Preact
 * component track the signals it reads while rendering. Streamo's stores are
 * built on the same `@preact/signals-core`, so a component that calls
 * `repo.get("messages", "length")` during render re-renders when — and only
 * when — that path changes, with no subscription code:
 *
 * @example
 * ```tsx
 * import { Repo } from "@streamo/streamo";
 * import { useValue } from "@streamo/streamo/preact";
 *
 * const repo = new Repo();
 * repo.set({ name: "alice", messages: [] });
 *
 * function Count() {
 *   // Re-renders on each push to "messages", not when "name" changes.
 *   const n = useValue<number>(repo, "messages", "length");
 *   return <p>{n} messages</p>;
 * }
 * repo.push("messages", { text: "hi", at: Date.now() });
 * ```
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import type { PathKey } from "../store/streamo.ts";

export {
  batch,
  computed,
  effect,
  type ReadonlySignal,
  Signal,
  signal,
  untracked,
  useComputed,
  useSignal,
  useSignalEffect,
} from "@preact/signals";
export {
  hydrateIslands,
  type HydrateOptions,
  island,
  ISLAND_ATTRIBUTE,
  ISLAND_PROPS_ATTRIBUTE,
  ISLAND_PROPS_ID,
  IslandCollector,
  islandPropsScript,
  IslandRoot,
  type IslandRootProps,
} from "./islands.ts";

/** Anything with reactive per-path reads: `Streamo` and `Repo` fit. */
export interface Readable {
  /** The value at `path`; reading it in a reactive scope subscribes to it. */
  get(...path: PathKey[]): unknown;
}

/**
 * The value at `path` in `source`, read so that the calling component
 * re-renders exactly when that path's value changes. Equivalent to calling
 * `source.get(...path)` in render — this module being loaded is what makes
 * the read tracked. `source` may be `undefined` (e.g. a repo not loaded
 * yet); the result is then `undefined`.
 */
export function useValue<T = unknown>(
  source: Readable | undefined,
  ...path: PathKey[]
): T {
  return source?.get(...path) as T;
}

/**
 * Whether this module's bridge is active: `@preact/signals` is loaded and
 * patches Preact, so components track signal reads. Always `true` once this
 * module is imported; useful as an explicit dependency in entry points that
 * only need the side effect.
 */
export function signalsBridgeActive(): boolean {
  // Referencing an export keeps the module (and its Preact hooks) in bundles.
  return typeof useSignal === "function";
}
