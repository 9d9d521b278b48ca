/**
 * Asking for credentials on a terminal: the password without echo. When
 * stdin is not a terminal nothing is asked — a script must pass the value.
 *
 * @module
 */

/** Thrown when a value must be asked for but stdin is not a terminal. */
export class NotATerminalError extends Error {
  /** Says which value is missing and how to give it. */
  constructor(what: string, how: string) {
    super(
      `Cannot ask for the ${what}: stdin is not a terminal. Give it with ${how}.`,
    );
    this.name = "NotATerminalError";
  }
}

/** What the prompts read and write (the process's stdin and stderr by default). */
export interface PromptIO {
  /** Whether stdin is a terminal. */
  isTerminal(): boolean;
  /** Switches the terminal's raw mode (no echo, byte by byte). */
  setRaw(raw: boolean): void;
  /** Reads into `buffer`; `null` at end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes prompt text. */
  write(text: string): void;
}

const encoder = new TextEncoder();

/** The process's terminal: stdin and stderr. */
export const processIO: PromptIO = {
  isTerminal: () => Deno.stdin.isTerminal(),
  setRaw: (raw) => Deno.stdin.setRaw(raw),
  read: (buffer) => Deno.stdin.read(buffer),
  write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
};

/** Thrown when the person pressed Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelled extends Error {
  /** The prompt was cancelled. */
  constructor() {
    super("Cancelled");
    this.name = "PromptCancelled";
  }
}

/**
 * Reads one line from the terminal after writing `question`. With
 * `hidden`, the terminal does not echo what is typed (a password).
 * Backspace edits; Ctrl-C or Ctrl-D on an empty line throws
 * {@linkcode PromptCancelled}.
 */
export async function askLine(
  question: string,
  hidden: boolean,
  io: PromptIO = processIO,
): Promise<string> {
  // Raw (no echo) before the question shows, so nothing typed is echoed.
  io.setRaw(true);
  io.write(question);
  const bytes: number[] = [];
  const echo = new TextDecoder();
  const buffer = new Uint8Array(256);
  try {
    for (;;) {
      const n = await io.read(buffer);
      if (n === null) throw new PromptCancelled();
      for (const byte of buffer.subarray(0, n)) {
        if (byte === 0x0d || byte === 0x0a) {
          io.write("\r\n");
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (byte === 0x03 || (byte === 0x04 && bytes.length === 0)) {
          io.write("\r\n");
          throw new PromptCancelled();
        }
        if (byte === 0x7f || byte === 0x08) {
          if (bytes.length === 0) continue;
          // Drop one UTF-8 character (its continuation bytes first).
          while (bytes.length && (bytes[bytes.length - 1] & 0xc0) === 0x80) {
            bytes.pop();
          }
          bytes.pop();
          if (!hidden) io.write("\b \b");
          continue;
        }
        if (byte < 0x20) continue;
        bytes.push(byte);
        if (!hidden) {
          io.write(echo.decode(Uint8Array.of(byte), { stream: true }));
        }
      }
    }
  } finally {
    io.setRaw(false);
  }
}

/** What {@linkcode resolveCredentials} needs to know. */
export interface CredentialsInput {
  /** The username given, if any. */
  username: string | undefined;
  /** The password given, if any. */
  password: string | undefined;
}

/**
 * The username and password: as given, else asked for on the terminal
 * (the password hidden). Throws {@linkcode NotATerminalError} when one is
 * missing and stdin is not a terminal.
 */
export async function resolveCredentials(
  input: CredentialsInput,
  io: PromptIO = processIO,
): Promise<{ username: string; password: string }> {
  let { username, password } = input;
  if (!username) {
    if (!io.isTerminal()) {
      throw new NotATerminalError("username", "--username or STREAMO_USERNAME");
    }
    username = (await askLine("Username: ", false, io)).trim();
    if (!username) {
      throw new RangeError("Cannot sign in: the username is empty");
    }
  }
  if (!password) {
    if (!io.isTerminal()) {
      throw new NotATerminalError("password", "--password or STREAMO_PASSWORD");
    }
    password = await askLine(`Password for ${username}: `, true, io);
    if (!password) {
      throw new RangeError("Cannot sign in: the password is empty");
    }
  }
  return { username, password };
}
