/**
 * The room's members, with who is online and who is typing (presence).
 *
 * @module
 */

import { useState } from "preact/hooks";
import type { ChatMember } from "../lib/chat/model.ts";
import { useChat } from "../components/context.ts";
import { keyHue } from "../components/format.ts";

/** Props of {@linkcode Members}. */
export interface MembersProps {
  /** The members the server rendered, in the order they joined. */
  members: ChatMember[];
}

/** The member list. */
export default function Members(props: MembersProps) {
  const chat = useChat();
  const [open, setOpen] = useState(false);
  const online = chat?.online.value;
  const me = chat?.me.value?.key;

  const byKey = new Map<string, ChatMember>();
  for (const member of props.members) byKey.set(member.key, member);
  if (chat?.loaded.value) {
    for (const member of chat.members()) byKey.set(member.key, member);
  }
  const isOnline = (key: string) =>
    key === me ? chat?.status.value === "open" : online?.has(key) ?? false;
  const members = [...byKey.values()];
  if (online) {
    // Stable sort: you first, then who is online, each in joining order.
    members.sort((a, b) =>
      Number(b.key === me) - Number(a.key === me) ||
      Number(isOnline(b.key)) - Number(isOnline(a.key))
    );
  }
  const onlineCount = online
    ? members.filter((m) => isOnline(m.key)).length
    : 0;

  return (
    <section
      class={"members" + (open ? " open" : "")}
      aria-labelledby="members-title"
    >
      <h2 id="members-title">
        <button
          type="button"
          class="members-toggle"
          aria-expanded={open}
          aria-controls="member-list"
          onClick={() => setOpen(!open)}
        >
          Members <span class="count">{members.length}</span>
          {online
            ? <span class="online-count">{onlineCount} online</span>
            : null}
        </button>
      </h2>
      <ul id="member-list">
        {members.length === 0
          ? <li class="none">Nobody has joined yet.</li>
          : null}
        {members.map((member) => {
          const here = isOnline(member.key);
          const typing = member.key !== me && online?.get(member.key)?.typing;
          return (
            <li
              key={member.key}
              class={here ? "online" : "offline"}
              data-key={member.key}
              title={member.key}
            >
              <span
                class="dot"
                aria-hidden="true"
                style={`--hue:${keyHue(member.key)}`}
              />
              <span class="name">{member.name}</span>
              {member.key === me ? <span class="you">(you)</span> : null}
              <span class="state">
                {online
                  ? (typing ? "typing…" : here ? "online" : "offline")
                  : ""}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
