/**
 * SHA-256 from `node:crypto` (native, ~1 GB/s): for Deno and Node servers.
 * Loaded with a dynamic `import()` so browser bundles never need it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Sha256 } from "./sha256.ts";

/** SHA-256 through `node:crypto`'s `createHash`. */
export const nativeSha256: Sha256 = (bytes) => {
  const digest = createHash("sha256").update(bytes).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
};
