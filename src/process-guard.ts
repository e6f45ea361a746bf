import { writeSync } from 'node:fs';

/** The message of the guard's line (pino's `msg`, or the start of a stderr line). */
export const UNHANDLED_REJECTION_MARKER = 'fatal: unhandled rejection';
export const UNCAUGHT_EXCEPTION_MARKER = 'fatal: uncaught exception';
/** Matches the guard's line in a process's output (stdout or stderr): tests assert it never appears under faults. */
export const PROCESS_GUARD_LINE = /fatal: (?:unhandled rejection|uncaught exception)/;
/** sysexits' EX_SOFTWARE: a programming error stopped the process (documented in `roster --help`). */
export const FATAL_EXIT_CODE = 70;

/** The slice of a pino logger the guard writes through. */
export interface FatalLog {
  fatal(object: object, message: string): void;
}

export interface ProcessGuard {
  /** From now on the line goes through this logger (the process's own log stream) instead of stderr. */
  useLogger(log: FatalLog): void;
}

let installed: { log: FatalLog | undefined } | undefined;

function report(marker: string, error: unknown, log: FatalLog | undefined): void {
  try {
    if (log) {
      // pino's default destination writes synchronously, so the line is out before exit().
      log.fatal({ err: error }, marker);
      return;
    }
  } catch {
    // fall through to stderr
  }
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  try {
    writeSync(2, `${marker}: ${detail}\n`);
  } catch {
    // nowhere left to say it
  }
}

/**
 * `roster serve` and `roster worker`: an unhandled rejection or uncaught exception is a programming
 * error (operational errors are handled where they happen), so it is logged on one line matching
 * PROCESS_GUARD_LINE and the process exits with FATAL_EXIT_CODE for its supervisor to restart it, rather
 * than running on in an unknown state. Installing twice returns the same guard.
 */
export function installProcessGuard(): ProcessGuard {
  if (!installed) {
    const state: { log: FatalLog | undefined } = { log: undefined };
    installed = state;
    process.on('unhandledRejection', (reason) => {
      report(UNHANDLED_REJECTION_MARKER, reason, state.log);
      process.exit(FATAL_EXIT_CODE);
    });
    process.on('uncaughtException', (error) => {
      report(UNCAUGHT_EXCEPTION_MARKER, error, state.log);
      process.exit(FATAL_EXIT_CODE);
    });
  }
  const state = installed;
  return {
    useLogger(log) {
      state.log = log;
    },
  };
}
