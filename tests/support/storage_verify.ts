/**
 * A test stand-in for the signed-only ingest verifier: a `verify` hook for
 * `loadInto` that checks each signed range of a foreign archive the way
 * SPEC §4 says (the SIGNATURE starts at the right address, follows a
 * commit record, and verifies under the repo's key). The real one belongs
 * to `lib/store/ingest.ts`; this exists only to exercise the hook.
 *
 * @module
 */

import { hexToBytes, type Repo, verifySignature } from "../../lib/mod.ts";
import { SIGNATURE } from "../../lib/codec/footers.ts";
import { readUint } from "../../lib/codec/varint.ts";
import type { LoadRange } from "../../lib/storage/mod.ts";

/** A `verify` hook checking ranges appended to `repo` against `keyHex`. */
export function testVerifier(
  repo: Repo,
  keyHex: string,
): (range: LoadRange) => void {
  const publicKey = hexToBytes(keyHex);
  let previous = 0;
  return ({ offset, chunks }) => {
    const signature = chunks[chunks.length - 1];
    let start = offset;
    for (let i = 0; i < chunks.length - 1; i++) start += chunks[i].length;
    const addressBytes = signature[signature.length - 1] - SIGNATURE + 1;
    const from = readUint(signature, 0, addressBytes);
    if (from !== previous) {
      throw new Error(
        `signature at ${start} covers bytes from ${from}, expected ${previous}`,
      );
    }
    if (!repo.commitAt(start - 1)) {
      throw new Error(`signature at ${start} does not follow a commit record`);
    }
    const sig = signature.subarray(addressBytes, addressBytes + 64);
    if (!verifySignature(publicKey, repo.view(from, start - 1), sig)) {
      throw new Error(`signature at ${start} does not verify`);
    }
    previous = start;
  };
}
