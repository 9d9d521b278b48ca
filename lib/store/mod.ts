/**
 * Reactive stores over the byte codec.
 *
 * @module
 */

export {
  type PathKey,
  Streamo,
  type StreamoOptions,
  type ValueSignal,
} from "./streamo.ts";
