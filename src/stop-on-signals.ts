/** What a stopping process says, through the logger of what it started. */
export interface StopLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface StopOptions<T> {
  /** Past this, a stop that has not finished exits 1. */
  timeoutMs: number;
  /** The line logged when a signal starts the stop, e.g. "shutting down: finishing in-flight requests". */
  stopping: string;
  /** The logger of what was started. */
  log(started: T): StopLog;
}

/**
 * Starts a process's work (`roster serve`, `roster worker`) with SIGTERM and SIGINT already
 * handled: until a Node process listens for a signal the kernel kills it outright, so handlers
 * installed after the ready line is printed would miss a signal sent on seeing it, and the process
 * would die without a code and without handing back its work. A signal during start-up stops what
 * was started as soon as the start completes. The stop closes it and exits 0; a failed close, the
 * timeout (counted from the signal) or a second signal exit 1.
 */
export async function startStoppable<T extends { close(): Promise<void> }>(
  start: () => Promise<T>,
  options: StopOptions<T>,
): Promise<T> {
  let started: T | undefined;
  let signal: NodeJS.Signals | undefined;
  const stop = (running: T, received: NodeJS.Signals) => {
    const log = options.log(running);
    log.info({ signal: received }, options.stopping);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (received: NodeJS.Signals) => {
    if (signal !== undefined) process.exit(1);
    signal = received;
    const timer = setTimeout(() => {
      if (started) options.log(started).error({}, 'shutdown timed out; exiting');
      else process.stderr.write('roster: start-up did not finish before the shutdown timeout; exiting\n');
      process.exit(1);
    }, options.timeoutMs);
    timer.unref();
    if (started) stop(started, received);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  started = await start();
  if (signal !== undefined) stop(started, signal);
  return started;
}
