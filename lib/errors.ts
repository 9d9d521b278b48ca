/**
 * The domain errors callers catch. Bad input otherwise throws the built-in
 * `TypeError`, `RangeError` or `SyntaxError`.
 *
 * @module
 */

/** A signature is missing, malformed, or does not verify for the repo's key. */
export class SignatureError extends Error {
  /** Byte offset in the repo's stream the failure refers to, when known. */
  offset?: number;
  /** Creates a `SignatureError`; `offset` locates the failure in the stream. */
  constructor(message: string, options?: ErrorOptions & { offset?: number }) {
    super(message, options);
    this.name = "SignatureError";
    this.offset = options?.offset;
  }
}

/**
 * Incoming bytes disagree with bytes already stored at the same offset: two
 * writers continued the same repo differently.
 */
export class ForkError extends Error {
  /** Byte offset of the first chunk that differs. */
  offset?: number;
  /** Creates a `ForkError`; `offset` is where the histories diverge. */
  constructor(message: string, options?: ErrorOptions & { offset?: number }) {
    super(message, options);
    this.name = "ForkError";
    this.offset = options?.offset;
  }
}
