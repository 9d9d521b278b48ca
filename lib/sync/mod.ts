/**
 * The sync protocol (SPEC §5 and our additions) over any WebSocket-shaped
 * {@linkcode Transport}: {@linkcode registrySync} for clients,
 * {@linkcode acceptRegistrySync} and {@linkcode Relay} for servers,
 * {@linkcode repoSync} for single-stream mode. See `lib/sync/README.md`.
 *
 * @module
 */

export {
  type AnnounceEvent,
  type PresenceEvent,
  type PresenceOptions,
  registrySync,
  type RegistrySyncOptions,
  type SyncSession,
  type SyncStats,
  type SyncStatus,
} from "./client.ts";
export {
  type AcceptOptions,
  acceptRegistrySync,
  createRelay,
  Relay,
  type RelayOptions,
  type SyncConnection,
} from "./relay.ts";
export {
  DEFAULT_BATCH_BYTES,
  DEFAULT_HIGH_WATER,
  DEFAULT_LOW_WATER,
  type RejectEvent,
  SyncPeer,
  type SyncPeerOptions,
} from "./peer.ts";
export {
  repoSync,
  type RepoSyncOptions,
  StreamPeer,
  type StreamPeerOptions,
} from "./single_stream.ts";
export {
  DEFAULT_LIMITS,
  RATE_BURST_SECONDS,
  RateMeter,
  type ResolvedLimits,
  type SyncLimits,
} from "./limits.ts";
export {
  type BroadcastChannelLike,
  BroadcastFanout,
  type BroadcastFanoutOptions,
  type FanoutStats,
  type RangeBroadcast,
} from "./broadcast.ts";
export { backoffDelay, type ReconnectOptions } from "./backoff.ts";
export { CloseCode, type Transport } from "./transport.ts";
export {
  type AnnounceMessage,
  type CatalogMessage,
  type ControlMessage,
  encodeControl,
  type HelloMessage,
  type InterestMessage,
  KEY_BYTES,
  parseControl,
  type PingMessage,
  type PresenceMessage,
  type RejectMessage,
  type RejectReason,
  type SeekMessage,
  type SubscribedMessage,
  type SubscribeMessage,
  type UnknownMessage,
} from "./messages.ts";
