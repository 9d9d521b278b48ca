/**
 * What the chat UI reads and calls: the state of one chat client, as
 * signals and reactive reads, and its actions. `ChatApp` implements it.
 *
 * @module
 */

import type { ReadonlySignal } from "@preact/signals-core";
import type { DeriveProgress } from "./identity.ts";
import type { ChatLine, ChatMember } from "./model.ts";
import type { PresenceEntry } from "./presence.ts";

/** The connection to the relay, as the UI shows it. */
export type ConnectionStatus =
  /** Not started yet (server render, first client render). */
  | "idle"
  /** First connection attempt in progress. */
  | "connecting"
  /** Connected and in sync. */
  | "open"
  /** The connection dropped; retrying. Writes are kept and sent later. */
  | "reconnecting"
  /** Closed for good (the client was closed). */
  | "closed";

/** The signed-in participant. */
export interface SignedIn {
  /** Their chat repo key. */
  key: string;
  /** The username they signed in with (their display name). */
  username: string;
  /** Whether this device remembers the key. */
  remembered: boolean;
}

/** The state and actions of a chat client, for the UI. */
export interface ChatView {
  /** The connection's status. */
  readonly status: ReadonlySignal<ConnectionStatus>;
  /** Whether the browser reports a network (`navigator.onLine`). */
  readonly network: ReadonlySignal<boolean>;
  /** Whether local data (this device's store) is loaded. */
  readonly loaded: ReadonlySignal<boolean>;
  /** The signed-in participant, if any. */
  readonly me: ReadonlySignal<SignedIn | undefined>;
  /** Progress of a sign-in's key derivation while it runs. */
  readonly deriving: ReadonlySignal<DeriveProgress | undefined>;
  /** The last error to show (sign-in, sending, storage), if any. */
  readonly error: ReadonlySignal<string | undefined>;
  /** Participants online now, by key. */
  readonly online: ReadonlySignal<ReadonlyMap<string, PresenceEntry>>;
  /** The room's recent history from live data (reactive). */
  history(): ChatLine[];
  /** The room's members with names (reactive). */
  members(): ChatMember[];
  /** Derives the key and signs in; `remember` keeps the key on this device. */
  signIn(username: string, password: string, remember: boolean): Promise<void>;
  /** Signs out and forgets the key on this device. */
  signOut(): Promise<void>;
  /** Sends a message (kept and sent later while offline). */
  send(text: string): void;
  /** Tells others whether the participant is typing. */
  setTyping(typing: boolean): void;
  /** Clears the error shown. */
  dismissError(): void;
}
