/**
 * The sync protocol's messages (SPEC §5 and our additions): JSON control
 * messages sent as text, and binary data messages `[33-byte key][frames]`.
 *
 * Reference messages: `catalog`, `subscribe`, `interest`, `announce`.
 * Ours, which a reference peer ignores (it drops unknown types): `hello`,
 * `subscribed`, `seek`, `reject`, `presence`, `ping`, `pong`, and the
 * `from` field of `subscribe`. See `lib/sync/README.md` for the protocol.
 *
 * @module
 */

import { bytesToHex } from "../codec/hex.ts";
import { isRepoKey } from "../registry/key.ts";

/** Length of a public key at the start of a data message. */
export const KEY_BYTES = 33;

/** The first text message a client sends to choose multi-repo mode. */
export const REGISTRY_HANDSHAKE = "registry";

/** Protocol name in our `hello`. */
export const PROTOCOL = "streamo-sync";

/** Protocol version in our `hello`. */
export const PROTOCOL_VERSION = 1;

/** Why a side refused input or a request for a repo. */
export type RejectReason =
  /** A signature does not verify, or starts at the wrong address. */
  | "signature"
  /** Bytes were left without a signature where the sender said a range ended. */
  | "unsigned"
  /** Incoming chunks differ from the chunks stored at the same offset. */
  | "fork"
  /** A frame or chunk is malformed, or bytes are missing before a chunk. */
  | "malformed"
  /** A frame is longer than the receiver's limit. */
  | "too-large"
  /** More bytes arrived without a signature than the receiver holds pending. */
  | "pending"
  /** A per-connection limit (such as repos per connection) was reached. */
  | "limit"
  /** The receiver does not carry this repo (its filter refused it). */
  | "filtered"
  /** Data arrived for a repo the connection is not subscribed to. */
  | "unsubscribed"
  /** The receiver could not open the repo (storage failed). */
  | "unavailable"
  /** The sender went over the relay's message or byte rate (then it closes). */
  | "rate";

/** `{type: "catalog", keys}`: repos the sender has open (reference). */
export interface CatalogMessage {
  /** Message type. */
  type: "catalog";
  /** Repo keys. */
  keys: string[];
}

/**
 * `{type: "subscribe", key, from?}`: both sides stream the repo to each
 * other and accept its verified chunks (reference). Ours: `from` is the
 * sender's verified length, so the receiver streams from there.
 */
export interface SubscribeMessage {
  /** Message type. */
  type: "subscribe";
  /** Repo key. */
  key: string;
  /** Ours: the sender's verified length of the repo (resume point). */
  from?: number;
  /**
   * Ours: `[end, fingerprint]` checkpoints of the sender's signed history
   * (see `Repo.checkpoints`), so the receiver can tell how much of it it
   * shares — and stream from there when the histories forked.
   */
  checkpoints?: [number, string][];
}

/** Most checkpoints a `subscribe` may carry. */
export const MAX_CHECKPOINTS = 64;

/** Ours: `{type: "subscribed", key, offset}`: the initial replay was sent; it ended at `offset`. */
export interface SubscribedMessage {
  /** Message type. */
  type: "subscribed";
  /** Repo key. */
  key: string;
  /** Where the replay ended (the sender's verified length then). */
  offset: number;
}

/**
 * Ours: `{type: "seek", key, offset}`: the sender's next data for `key`
 * starts at `offset` of the stream (it skips bytes the receiver has).
 */
export interface SeekMessage {
  /** Message type. */
  type: "seek";
  /** Repo key. */
  key: string;
  /** Stream offset of the next chunk sent for `key`. */
  offset: number;
}

/**
 * Ours: `{type: "reject", key, reason, offset?, message?}`: the sender
 * dropped input for `key` (or refused the repo); nothing of it was stored
 * or forwarded.
 */
export interface RejectMessage {
  /** Message type. */
  type: "reject";
  /** Repo key, when the rejection concerns one repo. */
  key?: string;
  /** Why. */
  reason: RejectReason;
  /** Stream offset the rejection refers to, when known. */
  offset?: number;
  /** Human-readable detail. */
  message?: string;
}

/** `{type: "interest", key}`: send me announces and presence for topic `key` (reference). */
export interface InterestMessage {
  /** Message type. */
  type: "interest";
  /** The topic (a repo key in the chat: the room). */
  key: string;
}

/** `{type: "announce", key, topic}`: repo `key` takes part in `topic` (reference). */
export interface AnnounceMessage {
  /** Message type. */
  type: "announce";
  /** The announced repo key. */
  key: string;
  /** The topic. */
  topic: string;
}

/**
 * Ours: `{type: "presence", topic, key?, state, ttl, peer?}`: ephemeral
 * state (online, typing…) of `key` in `topic`, valid for `ttl` ms; never
 * stored in a repo. `state: null` with `ttl: 0` means gone. A relay stamps
 * `peer`, the id of the connection it came from (unforgeable, unlike
 * `key`).
 */
export interface PresenceMessage {
  /** Message type. */
  type: "presence";
  /** The topic (as in `interest`). */
  topic: string;
  /** Whose presence (claimed by the sender; not authenticated). */
  key?: string;
  /** Any JSON value; `null` means gone. */
  state: unknown;
  /** Milliseconds the state stays valid. */
  ttl: number;
  /** Set by a relay: the id of the connection the presence came from. */
  peer?: string;
}

/** Ours: `{type: "hello", protocol, version, features}`: the sender speaks our additions. */
export interface HelloMessage {
  /** Message type. */
  type: "hello";
  /** Always `"streamo-sync"`. */
  protocol: string;
  /** Protocol version (1). */
  version: number;
  /** Additions the sender supports. */
  features: string[];
}

/** Ours: `{type: "ping", id?}` asks for a `pong` with the same `id`. */
export interface PingMessage {
  /** Message type. */
  type: "ping" | "pong";
  /** Echoed in the pong. */
  id?: number;
}

/** A control message this implementation understands. */
export type ControlMessage =
  | CatalogMessage
  | SubscribeMessage
  | SubscribedMessage
  | SeekMessage
  | RejectMessage
  | InterestMessage
  | AnnounceMessage
  | PresenceMessage
  | HelloMessage
  | PingMessage;

/** A control message of a type we do not know (ignored, like the reference). */
export interface UnknownMessage {
  /** Its type. */
  type: string;
  /** Marks it unknown. */
  unknown: true;
}

/** Longest topic accepted. */
export const MAX_TOPIC_LENGTH = 256;

/** Features our `hello` lists. */
export const FEATURES = [
  "reject",
  "subscribed",
  "resume",
  "seek",
  "batch",
  "presence",
  "ping",
];

function fail(what: string): never {
  throw new SyntaxError(`Malformed control message: ${what}`);
}

function key(value: unknown, field: string): string {
  if (!isRepoKey(value)) {
    fail(`${field} must be a repo key (66 lower-case hex characters)`);
  }
  return value as string;
}

function offset(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    fail(`${field} must be a non-negative integer`);
  }
  return value as number;
}

function checkpoints(value: unknown): [number, string][] {
  if (!Array.isArray(value) || value.length > MAX_CHECKPOINTS) {
    fail(
      `subscribe.checkpoints must be an array of at most ${MAX_CHECKPOINTS}`,
    );
  }
  return value.map((pair) => {
    if (
      !Array.isArray(pair) || pair.length !== 2 ||
      typeof pair[1] !== "string" || !/^[0-9a-f]{16}$/.test(pair[1])
    ) {
      fail("subscribe.checkpoints holds [offset, 16 hex digits] pairs");
    }
    return [offset(pair[0], "subscribe.checkpoints offset"), pair[1]];
  });
}

function topic(value: unknown): string {
  if (
    typeof value !== "string" || value.length === 0 ||
    value.length > MAX_TOPIC_LENGTH
  ) {
    fail(`topic must be a string of 1..${MAX_TOPIC_LENGTH} characters`);
  }
  return value;
}

/**
 * Parses and checks a text control message. Returns an `UnknownMessage`
 * for a well-formed message of a type we do not know; throws a
 * `SyntaxError` saying what is wrong otherwise.
 */
export function parseControl(text: string): ControlMessage | UnknownMessage {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch {
    fail("not JSON");
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    fail("not a JSON object");
  }
  const type = m.type;
  if (typeof type !== "string") fail("type must be a string");
  switch (type) {
    case "catalog": {
      if (!Array.isArray(m.keys)) fail("catalog.keys must be an array");
      return { type, keys: m.keys.map((k) => key(k, "catalog.keys[]")) };
    }
    case "subscribe": {
      const out: SubscribeMessage = { type, key: key(m.key, "subscribe.key") };
      if (m.from !== undefined) out.from = offset(m.from, "subscribe.from");
      if (m.checkpoints !== undefined) {
        out.checkpoints = checkpoints(m.checkpoints);
      }
      return out;
    }
    case "subscribed":
    case "seek":
      return {
        type,
        key: key(m.key, `${type}.key`),
        offset: offset(m.offset, `${type}.offset`),
      } as SubscribedMessage | SeekMessage;
    case "reject": {
      if (typeof m.reason !== "string") fail("reject.reason must be a string");
      const out: RejectMessage = { type, reason: m.reason as RejectReason };
      if (m.key !== undefined) out.key = key(m.key, "reject.key");
      if (m.offset !== undefined) {
        out.offset = offset(m.offset, "reject.offset");
      }
      if (typeof m.message === "string") out.message = m.message;
      return out;
    }
    case "interest":
      return { type, key: topic(m.key) };
    case "announce":
      return { type, key: key(m.key, "announce.key"), topic: topic(m.topic) };
    case "presence": {
      if (typeof m.ttl !== "number" || !(m.ttl >= 0)) {
        fail("presence.ttl must be a non-negative number");
      }
      const out: PresenceMessage = {
        type,
        topic: topic(m.topic),
        state: m.state ?? null,
        ttl: m.ttl,
      };
      if (m.key !== undefined) out.key = key(m.key, "presence.key");
      if (typeof m.peer === "string") out.peer = m.peer;
      return out;
    }
    case "hello":
      return {
        type,
        protocol: String(m.protocol),
        version: Number(m.version),
        features: Array.isArray(m.features) ? m.features.map(String) : [],
      };
    case "ping":
    case "pong":
      return typeof m.id === "number" ? { type, id: m.id } : { type };
    default:
      return { type, unknown: true };
  }
}

/** The text of a control message. */
export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message);
}

/** Our `hello`. */
export function helloMessage(): HelloMessage {
  return {
    type: "hello",
    protocol: PROTOCOL,
    version: PROTOCOL_VERSION,
    features: FEATURES,
  };
}

/**
 * Splits a data message into the repo key (hex) and its chunk frames.
 * Throws a `SyntaxError` if it is too short or the key is malformed.
 */
export function decodeData(
  bytes: Uint8Array,
): { key: string; frames: Uint8Array } {
  if (bytes.length <= KEY_BYTES) {
    throw new SyntaxError(
      `Malformed data message: ${bytes.length} bytes is too short for a key and a frame`,
    );
  }
  const key = bytesToHex(bytes.subarray(0, KEY_BYTES));
  if (!isRepoKey(key)) {
    throw new SyntaxError(
      `Malformed data message: it starts with ${
        key.slice(0, 8)
      }…, which is not a public key`,
    );
  }
  return { key, frames: bytes.subarray(KEY_BYTES) };
}
