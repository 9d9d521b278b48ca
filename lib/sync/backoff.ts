/**
 * Reconnect delays: exponential backoff with jitter.
 *
 * @module
 */

/** Reconnect timing. */
export interface ReconnectOptions {
  /** Delay before the first retry, ms (default 250). */
  baseMs?: number;
  /** Longest delay, ms (default 30,000). */
  maxMs?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): `baseMs · 2^attempt`
 * capped at `maxMs`, then scaled by a random factor in [0.5, 1) so that
 * clients dropped together do not come back together.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@streamo/streamo";
 * const ms = backoffDelay(3, { baseMs: 100, maxMs: 10_000 }, () => 0.5);
 * console.log(ms); // 600
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: ReconnectOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const exponential = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(exponential * (0.5 + random() * 0.5));
}
