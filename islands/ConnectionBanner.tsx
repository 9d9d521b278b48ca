/**
 * Says when the room is unreachable — offline, or reconnecting — and that
 * messages written meanwhile are kept and sent later; shows errors that
 * belong to no form.
 *
 * @module
 */

import { useChat } from "../components/context.ts";

/** Props of {@linkcode ConnectionBanner} (none: it reads the chat client). */
export type ConnectionBannerProps = Record<string, never>;

/** The connection banner (an always-present live region). */
export default function ConnectionBanner(_props: ConnectionBannerProps) {
  const chat = useChat();
  let text = "";
  let kind = "";
  if (chat) {
    const status = chat.status.value;
    const kept = chat.me.value
      ? " Messages you send are kept on this device and delivered when the connection returns."
      : "";
    if (!chat.network.value) {
      kind = "offline";
      text = "You are offline." + kept;
    } else if (status === "reconnecting") {
      kind = "reconnecting";
      text = "Connection to the room lost — reconnecting…" + kept;
    } else if (status === "connecting") {
      kind = "connecting";
      text = "Connecting to the room…";
    } else if (status === "closed") {
      kind = "closed";
      text = "Disconnected from the room. Reload the page to reconnect.";
    }
  }
  return (
    <div
      class={"banner" + (kind ? " " + kind : "")}
      role="status"
      aria-live="polite"
      data-status={kind || undefined}
    >
      {text}
    </div>
  );
}
