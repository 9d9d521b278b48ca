/**
 * A per-key operation queue for drivers: operations on one key run one at
 * a time in call order, different keys run concurrently. Runtime-neutral.
 *
 * @module
 */

/**
 * Runs operations one key at a time, in call order; an operation that
 * fails does not stop the ones queued after it.
 *
 * @example
 * ```ts
 * import { KeyedQueue } from "./queue.ts";
 * const queue = new KeyedQueue();
 * const order: number[] = [];
 * queue.run("a", async () => { order.push(1); });
 * queue.run("a", async () => { order.push(2); });
 * await queue.idle();
 * console.log(order); // [1, 2]
 * ```
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `op` after every operation queued earlier for `key`. */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(op);
    const settled = result.then(() => {}, () => {});
    this.#tails.set(key, settled);
    settled.then(() => {
      if (this.#tails.get(key) === settled) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every operation queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
