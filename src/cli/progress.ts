import type { OutputOptions } from './output.js';

// cli-progress is loaded only when a bar is drawn: most runs (scripts, --json, pipes) never draw one.
export const loadBars = async () => (await import('cli-progress')).default;

/** Something drawn on stderr while work goes on; a no-op when bars are off. */
export interface Progress {
  /** Bytes sent so far grow by `bytes`. */
  add(bytes: number): void;
  /** A new status word for an indicator without a total, e.g. the cohort's `processing`. */
  status(text: string): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { add: () => undefined, status: () => undefined, stop: () => undefined };

/** Bars are drawn on a terminal only, and never with --json: scripts and logs get clean output. */
export function progressEnabled(options: OutputOptions): boolean {
  return !options.json && process.stderr.isTTY === true;
}

/** `27.3 MB`: a byte count for people. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Ctrl-C while a bar hides the cursor: stop the bar (which shows the cursor again), then exit 130 as shells expect. */
export function stoppedOnInterrupt(stop: () => void): () => void {
  const interrupted = () => {
    stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return () => {
    process.off('SIGINT', interrupted);
    stop();
  };
}

/** A bar of bytes sent against the upload's size, with the time left. */
export async function uploadProgress(label: string, totalBytes: number, enabled: boolean): Promise<Progress> {
  if (!enabled) return NO_PROGRESS;
  const cliProgress = await loadBars();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {sent} of {size} | ETA {eta_formatted}`,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let sent = 0;
  bar.start(Math.max(totalBytes, 1), 0, { sent: formatBytes(0), size: formatBytes(totalBytes) });
  return {
    add(bytes) {
      sent += bytes;
      bar.update(Math.min(sent, totalBytes), { sent: formatBytes(sent) });
    },
    status: () => undefined,
    stop: stoppedOnInterrupt(() => bar.stop()),
  };
}

/** The frames of a spinner, for work whose end is not known yet. */
export const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
