/**
 * The room's messages: server-rendered from `lines`, then live.
 *
 * @module
 */

import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { type ChatLine, mergeLines } from "../lib/chat/model.ts";
import { useChat } from "../components/context.ts";
import {
  formatDay,
  formatFull,
  formatTime,
  keyHue,
  type TimeSettings,
} from "../components/format.ts";

/** Props of {@linkcode MessageList}. */
export interface MessageListProps {
  /** The history the server rendered (merged by `at`). */
  lines: ChatLine[];
  /** How many messages to show at most. */
  limit: number;
  /** Time zone and locale of the server render; the browser uses its own. */
  time?: TimeSettings;
}

/** Consecutive messages of one sender within this gap share a header. */
const GROUP_MS = 5 * 60_000;
/** Within this distance of the bottom, the list counts as "at the bottom". */
const BOTTOM_SLACK = 48;

/** The message list. */
export default function MessageList(props: MessageListProps) {
  const chat = useChat();
  // Server lines stay until live data has them (same ids): no flicker, no
  // duplicates, whatever order the live data arrives in.
  const lines = chat?.loaded.value
    ? mergeLines([props.lines, chat.history()], props.limit)
    : props.lines;
  const me = chat?.me.value?.key;
  const time = chat ? {} : props.time ?? {};

  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const lastId = useRef<string | undefined>(undefined);
  const [unseen, setUnseen] = useState(0);

  const last = lines[lines.length - 1];
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const previous = lastId.current;
    lastId.current = last?.id;
    if (previous === undefined || last?.key === me || atBottom.current) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
      if (unseen) setUnseen(0);
    } else if (last && last.id !== previous) {
      const index = lines.findIndex((line) => line.id === previous);
      setUnseen((n) => n + (index < 0 ? 1 : lines.length - 1 - index));
    }
  }, [last?.id]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current =
      el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (atBottom.current && unseen) setUnseen(0);
  };
  const jump = () => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
    atBottom.current = true;
    setUnseen(0);
  };

  const items = [];
  let day = "";
  let previous: ChatLine | undefined;
  for (const line of lines) {
    const lineDay = formatDay(line.at, time);
    if (lineDay !== day) {
      day = lineDay;
      previous = undefined;
      items.push(
        <li class="day" key={"day:" + lineDay} role="separator">
          <span>{lineDay}</span>
        </li>,
      );
    }
    const grouped = previous !== undefined && previous.key === line.key &&
      line.at - previous.at < GROUP_MS;
    previous = line;
    items.push(
      <li
        key={line.id}
        class={"msg" + (grouped ? " grouped" : "") +
          (line.key === me ? " mine" : "")}
        data-id={line.id}
      >
        <div class="meta">
          <span class="who" style={`--hue:${keyHue(line.key)}`}>
            {line.name}
          </span>
          <time
            datetime={new Date(line.at).toISOString()}
            title={formatFull(line.at, time)}
          >
            {formatTime(line.at, time)}
          </time>
        </div>
        <p class="text">{line.text}</p>
      </li>,
    );
  }

  return (
    <div class="message-pane">
      <div
        class="scroller"
        id="scroller"
        ref={scroller}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-live="polite"
        aria-label="Messages"
      >
        {lines.length === 0
          ? (
            <p class="empty">
              No messages yet. Sign in and say hello — everyone in the room will
              see it.
            </p>
          )
          : null}
        <ol class="messages">
          {items}
        </ol>
      </div>
      {unseen > 0
        ? (
          <button type="button" class="jump" onClick={jump}>
            {unseen === 1 ? "1 new message" : `${unseen} new messages`} ↓
          </button>
        )
        : null}
    </div>
  );
}
