/**
 * Writing a message: Enter sends, Shift+Enter adds a line. Shown once signed
 * in; also shows who is typing.
 *
 * @module
 */

import { useRef, useState } from "preact/hooks";
import { MAX_MESSAGE_LENGTH } from "../lib/chat/model.ts";
import { useChat } from "../components/context.ts";

/** Props of {@linkcode Composer} (none: it reads the chat client). */
export type ComposerProps = Record<string, never>;

function typingLine(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** The message composer. */
export default function Composer(_props: ComposerProps) {
  const chat = useChat();
  const me = chat?.me.value;
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const input = useRef<HTMLTextAreaElement>(null);
  if (!chat || !me) return null;

  const typing: string[] = [];
  for (const entry of chat.online.value.values()) {
    if (entry.typing && entry.key !== me.key) {
      typing.push(entry.name ?? entry.key.slice(0, 8));
    }
  }

  const send = () => {
    if (!text.trim()) return;
    try {
      chat.send(text);
      setText("");
      setProblem(undefined);
      chat.setTyping(false);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
    input.current?.focus();
  };
  const tooLong = text.trim().length > MAX_MESSAGE_LENGTH;

  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <p class="typing" aria-live="polite">{typingLine(typing)}</p>
      <div class="compose-row">
        <label class="sr-only" for="message">Message</label>
        <textarea
          id="message"
          ref={input}
          rows={1}
          value={text}
          placeholder={`Message as ${me.username}`}
          aria-invalid={tooLong || undefined}
          aria-describedby="composer-problem"
          onInput={(event) => {
            const value = (event.target as HTMLTextAreaElement).value;
            setText(value);
            chat.setTyping(value.trim().length > 0);
          }}
          onBlur={() => chat.setTyping(false)}
          onKeyDown={(event) => {
            if (
              event.key === "Enter" && !event.shiftKey && !event.isComposing
            ) {
              event.preventDefault();
              send();
            }
          }}
        />
        <button type="submit" class="send" disabled={!text.trim() || tooLong}>
          Send
        </button>
      </div>
      <p class="compose-hint">Enter sends · Shift+Enter starts a new line</p>
      <p id="composer-problem" class="problem" role="alert">
        {tooLong
          ? `This message is ${text.trim().length} characters long; the most is ${MAX_MESSAGE_LENGTH}.`
          : problem ?? ""}
      </p>
    </form>
  );
}
