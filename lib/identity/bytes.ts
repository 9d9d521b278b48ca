/**
 * Small byte checks shared by the identity modules.
 *
 * @module
 */

/** True when `value` is a `Uint8Array` of exactly `length` bytes. */
export function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

/**
 * Throws a `TypeError` unless `value` is a `Uint8Array`, and a `RangeError`
 * unless it holds exactly `length` bytes. `what` names the value in the message.
 */
export function assertBytes(
  value: unknown,
  length: number,
  what: string,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(
      `${what} must be a Uint8Array, got ${describe(value)}`,
    );
  }
  if (value.length !== length) {
    throw new RangeError(
      `${what} must be ${length} bytes, got ${value.length}`,
    );
  }
}

/** Short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}
