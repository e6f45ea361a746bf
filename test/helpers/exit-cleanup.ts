/**
 * Synchronous clean-ups run when the test process ends, however it ends short of SIGKILL: a failed
 * or interrupted test must leave no PostgreSQL, Redis or mount behind. Each harness part registers
 * one per resource and unregisters it once it has cleaned up normally.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: the next clean-up must still run.
    }
  }
  cleanups.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  // The test runner stops a file's process with SIGTERM on timeout or Ctrl-C; without handlers
  // Node would exit without running 'exit' listeners.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Runs `cleanup` (synchronous) at process exit; call the returned function to cancel it. */
export function onProcessExit(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
