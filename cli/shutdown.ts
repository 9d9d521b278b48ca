/**
 * Shutting down: bounded waits (a step that does not finish in time is
 * logged and left behind, so one unresponsive peer cannot hang an exit),
 * the stop signals, and a program's exit code.
 *
 * @module
 */

import { PromptCancelled } from "./prompt.ts";

/** The signals that stop a program: SIGINT and SIGTERM (SIGINT only on Windows). */
export const SHUTDOWN_SIGNALS: readonly Deno.Signal[] =
  Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];

/**
 * Waits for `promise`, at most `ms` milliseconds; on timeout logs that
 * `what` did not finish and resolves anyway. A rejection passes through.
 */
export async function bounded<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  log: (line: string) => void = console.error,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      log(`${what} did not finish within ${ms} ms; going on without it`);
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `stop` on the first SIGINT or SIGTERM (SIGINT only on Windows) and
 * exits with `code` when it has finished (1 if it threw); a second signal
 * exits at once. Returns a function that removes the listeners.
 */
export function onShutdownSignal(
  stop: (signal: Deno.Signal) => Promise<void>,
  code = 0,
): () => void {
  let stopping = false;
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) Deno.exit(130);
    stopping = true;
    stop(signal).then(
      () => Deno.exit(code),
      (error) => {
        console.error(
          `Cannot stop cleanly: ${
            error instanceof Error ? error.message : error
          }`,
        );
        Deno.exit(1);
      },
    );
  };
  const listeners = SHUTDOWN_SIGNALS.map((signal) => {
    const listener = handler(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}

/**
 * Runs `program` as the process: exits with the code it resolves with, or
 * keeps running on -1 (it stops on a signal); exits with 130 when a prompt
 * was cancelled, and with 1 after printing any other error.
 */
export async function runProcess(
  program: () => Promise<number>,
): Promise<void> {
  try {
    const code = await program();
    if (code >= 0) Deno.exit(code);
  } catch (error) {
    if (error instanceof PromptCancelled) Deno.exit(130);
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
