/**
 * What the chat UI reads and calls: the state of one chat client, as
 * signals and reactive reads, and its actions. `ChatApp` implements it.
 *
 * @module
 */

import type { ValueSignal } from "../store/streamo.ts";
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

/**
 * What an automatic merge of your own repo did: another device of yours wrote
 * while this one could not sync, the relay accepted that device's history
 * first, and this device rebased onto it (see `Repo.rebaseOnto`). Counts add
 * up over merges until the notice is dismissed.
 */
export interface RebaseNotice {
  /** Your repo's key. */
  key: string;
  /** Messages written on the other device, now before this device's. */
  theirs: number;
  /** Messages written on this device, kept and re-signed after them. */
  ours: number;
  /**
   * Values both devices changed differently (your display name, say); the
   * later change was kept.
   */
  conflicts: number;
  /** When the (last) merge happened, ms since the epoch (the client's clock). */
  at: number;
}

/** The state and actions of a chat client, for the UI. */
export interface ChatView {
  /** The connection's status. */
  readonly status: ValueSignal<ConnectionStatus>;
  /** Whether the browser reports a network (`navigator.onLine`). */
  readonly network: ValueSignal<boolean>;
  /** Whether local data (this device's store) is loaded. */
  readonly loaded: ValueSignal<boolean>;
  /** The signed-in participant, if any. */
  readonly me: ValueSignal<SignedIn | undefined>;
  /** Progress of a sign-in's key derivation while it runs. */
  readonly deriving: ValueSignal<DeriveProgress | undefined>;
  /** The last error to show (sign-in, sending, storage), if any. */
  readonly error: ValueSignal<string | undefined>;
  /** Participants online now, by key. */
  readonly online: ValueSignal<ReadonlyMap<string, PresenceEntry>>;
  /** The last merge of what you wrote on several devices, until dismissed. */
  readonly rebased: ValueSignal<RebaseNotice | undefined>;
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
  /** Clears the merge notice (`rebased`). */
  dismissRebase(): void;
}
