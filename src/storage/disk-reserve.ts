import { statfs } from 'node:fs/promises';

/**
 * Space kept free on the data folder's disk. A write that fills a disk to the last byte leaves the
 * server unable to record even that it failed: SQLite cannot checkpoint its WAL into a file that
 * cannot grow, so every later write fails too, and a cohort stays `processing` until someone frees
 * space. Ingest stops (and uploads are refused) while less than the reserve is free, so the small
 * writes that fail the attempt, retry it and clean up always have room.
 */
export class DiskReserveError extends Error {
  /** Read by isDiskFull: the same failure as the disk filling up, met before it did. */
  readonly code = 'ENOSPC';

  constructor(
    readonly freeBytes: number,
    readonly reserveBytes: number,
  ) {
    super(
      `no space left on device: ${megabytes(freeBytes)} free on the data folder's disk, less than the ${megabytes(reserveBytes)} kept free (ROSTER_DISK_RESERVE_MB)`,
    );
    this.name = 'DiskReserveError';
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Bytes free to an unprivileged writer on the disk holding `dir`; undefined when `dir` does not exist (yet). */
export async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const stats = await statfs(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Throws DiskReserveError when the disk holding `dir` has less than `reserveBytes` free (0 turns the check off). */
export async function assertDiskReserve(dir: string, reserveBytes: number): Promise<void> {
  if (reserveBytes <= 0) return;
  const free = await freeBytes(dir);
  if (free !== undefined && free < reserveBytes) throw new DiskReserveError(free, reserveBytes);
}
