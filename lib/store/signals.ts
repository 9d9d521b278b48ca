/**
 * The signal layer streamo's reactivity runs on, re-exported so apps bind to
 * the same `@preact/signals-core` instance the stores use.
 *
 * @module
 */

export {
  batch,
  computed,
  effect,
  type ReadonlySignal,
  Signal,
  signal,
  untracked,
} from "@preact/signals-core";
