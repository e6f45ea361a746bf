import { randomUUID } from 'node:crypto';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The folders under the data folder where files are staged while they are written. */
export const TEMPORARY_FOLDERS = ['uploads-tmp', 'blobs-tmp'] as const;

/**
 * A temporary file nobody can vouch for (named by another host, or by a version before names carried
 * their writer) is removed once untouched this long. A live writer keeps writing, and no upload or
 * ingest is silent for an hour; files whose writer is known are judged by whether it still runs.
 */
export const UNOWNED_TEMPORARY_FILE_MAX_AGE_MS = 60 * 60 * 1000;

/** An empty cohort folder is removed once this old; blob folders are made just before a file is moved in. */
export const EMPTY_FOLDER_MIN_AGE_MS = 60 * 1000;

// Host names go into file names: keep letters, digits and '-' so the name parses back.
const HOST =
  os
    .hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40) || 'host';
const NAME = /^(\d+)@([a-z0-9-]+)_[0-9a-f-]{36}/;
const STARTED_AT = Date.now() - Math.round(process.uptime() * 1000);

/**
 * `<pid>@<host>_<uuid><extension>`: a temporary file's name says which process writes it, so a
 * start-up sweep can tell a leftover of a dead process from a file another live process is writing.
 * (`pid` is for tests that plant a dead process's leftovers.)
 */
export function temporaryFileName(extension = '', pid = process.pid): string {
  return `${pid}@${HOST}_${randomUUID()}${extension}`;
}

export interface SweepReport {
  /** Paths (relative to the data folder) of the files and folders removed. */
  removed: string[];
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a staged file can still belong to a live writer; `now` and `startedAt` are this process's clock. */
function isLeftover(name: string, modifiedMs: number, now: number, startedAt: number): boolean {
  const owner = NAME.exec(name);
  if (owner && owner[2] === HOST) {
    const pid = Number(owner[1]);
    // Our own pid before we ran (a container restarted with the same pid), or a process that is gone.
    if (pid === process.pid) return modifiedMs < startedAt;
    return !processRuns(pid);
  }
  return now - modifiedMs > UNOWNED_TEMPORARY_FILE_MAX_AGE_MS;
}

async function sweepFolder(
  dataDir: string,
  folder: string,
  report: SweepReport,
  now: number,
  startedAt: number,
): Promise<void> {
  const dir = path.join(dataDir, folder);
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    const info = await stat(file).catch(() => undefined);
    if (!info || !isLeftover(entry.name, info.mtimeMs, now, startedAt)) continue;
    await rm(file, { recursive: true, force: true });
    report.removed.push(path.join(folder, entry.name));
  }
}

/** Removes the empty folders under `dir` (bottom-up), and `dir` itself when it ends empty; true then. */
async function removeEmptyFolders(dataDir: string, dir: string, report: SweepReport, now: number): Promise<boolean> {
  // Its age is read first: removing an empty subfolder touches the folder's own mtime.
  const info = await stat(dir).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!info || !entries) return false;
  let empty = true;
  for (const entry of entries) {
    if (!entry.isDirectory() || !(await removeEmptyFolders(dataDir, path.join(dir, entry.name), report, now)))
      empty = false;
  }
  if (!empty || now - info.mtimeMs < EMPTY_FOLDER_MIN_AGE_MS) return false;
  // rmdir (not rm -r) fails if a file arrived meanwhile, which keeps it.
  const removed = await rmdir(dir).then(
    () => true,
    () => false,
  );
  if (removed) report.removed.push(path.relative(dataDir, dir));
  return removed;
}

/**
 * Start-up clean-up of what processes killed mid-write left in the data folder: staged files in
 * uploads-tmp/ and blobs-tmp/ whose writer has stopped (same host, pid gone) or, when the writer is
 * unknown, untouched for UNOWNED_TEMPORARY_FILE_MAX_AGE_MS; and empty cohort folders under
 * blobs/cohorts/. Safe while other processes share the folder: their files name a live pid.
 */
export async function sweepTemporaryFiles(dataDir: string, options: { now?: number } = {}): Promise<SweepReport> {
  const now = options.now ?? Date.now();
  const report: SweepReport = { removed: [] };
  for (const folder of TEMPORARY_FOLDERS) await sweepFolder(dataDir, folder, report, now, STARTED_AT);
  const cohorts = path.join(dataDir, 'blobs', 'cohorts');
  const entries = await readdir(cohorts, { withFileTypes: true }).catch(() => []);
  for (const entry of entries)
    if (entry.isDirectory()) await removeEmptyFolders(dataDir, path.join(cohorts, entry.name), report, now);
  return report;
}
