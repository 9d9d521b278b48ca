/**
 * The value a SIGNATURE chunk holds.
 *
 * @module
 */

import { SIGNATURE_BYTES } from "./width.ts";

/**
 * A SIGNATURE chunk's value: `bytes` (64-byte compact secp256k1 signature)
 * over the stream from `address` (where the previous SIGNATURE chunk starts,
 * 0 for the first) up to this chunk (SPEC §4).
 *
 * @example
 * ```ts
 * import { Signature, Streamo } from "@streamo/streamo";
 * const s = new Streamo();
 * const at = s.append(s.encode(new Signature(0, new Uint8Array(64))));
 * console.log(s.decode(at) instanceof Signature); // true
 * ```
 */
export class Signature {
  /** Where the signed range starts: the previous SIGNATURE chunk's first byte. */
  readonly address: number;
  /** The 64-byte compact signature (r‖s). */
  readonly bytes: Uint8Array;

  /** Wraps a signed-range start address and 64 signature bytes. */
  constructor(address: number, bytes: Uint8Array) {
    if (!Number.isSafeInteger(address) || address < 0 || address > 0xffffffff) {
      throw new RangeError(
        `Cannot make a Signature: address ${address} is not an integer in 0..2^32-1`,
      );
    }
    if (!(bytes instanceof Uint8Array) || bytes.length !== SIGNATURE_BYTES) {
      throw new TypeError(
        `Cannot make a Signature: expected ${SIGNATURE_BYTES} signature bytes, got ${
          bytes instanceof Uint8Array ? bytes.length : typeof bytes
        }`,
      );
    }
    this.address = address;
    this.bytes = bytes;
  }
}
