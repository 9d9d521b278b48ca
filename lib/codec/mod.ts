/**
 * The byte codec: values ⇄ content-addressed codes (SPEC §1).
 *
 * @module
 */

export { bytesToHex, hexToBytes } from "./hex.ts";
export { ChunkStore, virtualAddress, virtualCode } from "./chunk_store.ts";
export { type CodecName, codecOf } from "./footers.ts";
export { Signature } from "./signature.ts";
export { codeWidth, MAX_CHUNK_LENGTH } from "./width.ts";
export {
  encodeFrames,
  FRAME_HEADER,
  FrameParser,
  REFERENCE_MAX_FRAME,
} from "./frames.ts";
