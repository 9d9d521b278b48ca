/**
 * Bounded waits for shutting down: a step that does not finish in time is
 * logged and left behind, so one unresponsive peer cannot hang an exit.
 *
 * @module
 */

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
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
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
  const listeners = signals.map((signal) => {
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
