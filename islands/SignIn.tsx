/**
 * Signing in: the username and password derive the key in the browser
 * (PBKDF2, with a progress bar); "remember this device" keeps the derived
 * key; once signed in, shows who you are and "Sign out".
 *
 * @module
 */

import { useEffect, useState } from "preact/hooks";
import { useChat } from "../components/context.ts";
import type { DeriveProgress } from "../lib/chat/identity.ts";
import type { RebaseNotice } from "../lib/chat/view.ts";

/** Props of {@linkcode SignIn}. */
export interface SignInProps {
  /** PBKDF2 iterations the room announces (`/api/info` `keyIterations`). */
  iterations: number;
}

function Progress({ progress }: { progress: DeriveProgress }) {
  const [now, setNow] = useState(performance.now());
  useEffect(() => {
    let frame = 0;
    const tick = () => {
      setNow(performance.now());
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, []);
  // Time-based estimate, held within the step actually reached.
  const estimated = (now - progress.startedAt) / progress.estimateMs;
  const floor = progress.done / progress.total;
  const ceiling = (progress.done + 1) / progress.total - 0.02;
  const fraction = Math.max(floor, Math.min(estimated, ceiling, 0.99));
  const percent = Math.round(fraction * 100);
  return (
    <div class="deriving" role="status">
      <progress
        max={100}
        value={percent}
        aria-label="Deriving your key"
      />
      <span>
        Deriving your key in this browser… step{" "}
        {progress.done + 1 > 2 ? 2 : progress.done + 1} of 2 ({percent}%)
      </span>
    </div>
  );
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** What an automatic merge of your repo did, in a sentence or two. */
function mergeText(notice: RebaseNotice): string {
  const { theirs, ours, conflicts } = notice;
  let text: string;
  if (theirs > 0 && ours > 0) {
    text = `Merged ${
      count(theirs, "message")
    } written on another device while this one was out of sync; your ${
      count(ours, "message")
    } from here ${ours === 1 ? "comes" : "come"} after ${
      theirs === 1 ? "it" : "them"
    }. Nothing was lost.`;
  } else if (theirs > 0) {
    text = `Merged ${
      count(theirs, "message")
    } written on another device while this one was out of sync.`;
  } else {
    text = "Merged what you changed here with what another device of yours " +
      "changed while this one was out of sync.";
  }
  if (conflicts > 0) {
    text += ` ${count(conflicts, "change")} made on both differed; the later ${
      conflicts === 1 ? "one was" : "ones were"
    } kept.`;
  }
  return text;
}

/** The sign-in form, or the signed-in bar. */
export default function SignIn(props: SignInProps) {
  const chat = useChat();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [remember, setRemember] = useState(true);
  const me = chat?.me.value;
  const deriving = chat?.deriving.value;
  const error = chat?.error.value;
  const rebased = chat?.rebased.value;

  if (chat && me) {
    const namesakes = chat.members().filter((m) =>
      m.name === me.username && m.key !== me.key
    );
    return (
      <div class="account">
        <span>
          Signed in as <strong>{me.username}</strong>{" "}
          <code title={me.key}>{me.key.slice(0, 10)}…</code> {me.remembered
            ? <span class="remembered">· remembered on this device</span>
            : null}
        </span>
        <button
          type="button"
          class="link"
          onClick={() => void chat.signOut()}
        >
          Sign out
        </button>
        {namesakes.length > 0
          ? (
            <p class="notice" role="status">
              Someone else in this room is also called “{me.username}”, with a
              different key. If that was you, you typed a different password
              this time — and a different password is a different identity. Sign
              out and sign in with the password you used before to be them
              again.
            </p>
          )
          : null}
        {rebased
          ? (
            <p class="notice merged" role="status">
              <span>{mergeText(rebased)}</span>
              <button
                type="button"
                class="link"
                aria-label="Dismiss the merge notice"
                onClick={() => chat.dismissRebase()}
              >
                OK
              </button>
            </p>
          )
          : null}
        {error ? <p class="problem" role="alert">{error}</p> : null}
      </div>
    );
  }

  // Disabled until the client is running: without JavaScript nothing could
  // derive a key, and a plain form submit would put the password in a URL.
  const ready = !!chat?.loaded.value;
  const busy = !ready || deriving !== undefined;
  return (
    <form
      class="signin"
      aria-label="Sign in"
      onSubmit={(event) => {
        event.preventDefault();
        if (!chat || busy) return;
        void chat.signIn(username, password, remember).then(() =>
          setPassword("")
        );
      }}
    >
      <h2>Sign in to write</h2>
      <p class="hint">
        No account needed: your username and password <em>are</em>{" "}
        your identity, turned into a key right here in your browser. Nobody can
        check or reset a password — a different password is simply a different
        identity.
      </p>
      <div class="fields">
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            disabled={busy}
            value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            disabled={busy}
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
      </div>
      <label class="check">
        <input
          type="checkbox"
          name="remember"
          checked={remember}
          disabled={busy}
          onChange={(e) => setRemember((e.target as HTMLInputElement).checked)}
        />
        Remember this device (keeps your key in this browser until you sign out)
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {deriving ? "Signing in…" : "Sign in"}
        </button>
        <span class="cost">
          {props.iterations.toLocaleString("en-US")} PBKDF2 rounds, twice
        </span>
      </div>
      {deriving ? <Progress progress={deriving} /> : null}
      {error ? <p class="problem" role="alert">{error}</p> : null}
    </form>
  );
}
