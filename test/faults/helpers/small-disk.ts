import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { mkdir, rm, rmdir, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { onProcessExit } from '../../helpers/exit-cleanup.js';

const run = promisify(execFile);
const FILLER = '.filler';

/** A tmpfs of a few MB mounted for one test: its `dataDir` runs out of space when the test says so. */
export interface SmallDisk {
  /** The mount point. */
  mountPoint: string;
  /** `<mountPoint>/data`: give it to a process as ROSTER_DATA_DIR (the filler lives beside it, not in it). */
  dataDir: string;
  /** Bytes available now. */
  available(): Promise<number>;
  /** Writes a filler file until at most `leaveBytes` (default 0) remain; answers the bytes left. */
  fill(leaveBytes?: number): Promise<number>;
  /** Deletes the filler: the space is back at once. */
  free(): Promise<void>;
  /** Unmounts (lazily if still busy) and removes the mount point; also done at process exit. */
  unmount(): Promise<void>;
}

/**
 * Undefined when this process can mount a tmpfs (tried once with a 1 MB one), else why not:
 * mounting needs root (or CAP_SYS_ADMIN) and a kernel/container that allows it.
 */
export async function smallDiskProblem(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  let probe: SmallDisk | undefined;
  try {
    probe = await mountSmallDisk(1);
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${(error as Error).message.trim().split('\n')[0]}); the disk-full tests need root`;
  } finally {
    await probe?.unmount().catch(() => undefined);
  }
}

/** Mounts a tmpfs of `sizeMb` MB on a new temporary folder (`mount -t tmpfs -o size=<n>m`). */
export async function mountSmallDisk(sizeMb: number): Promise<SmallDisk> {
  const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'roster-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', mountPoint]);
  } catch (error) {
    rmdirSync(mountPoint);
    throw new Error(`mount -t tmpfs failed: ${(error as { stderr?: string }).stderr || (error as Error).message}`);
  }
  let mounted = true;
  const unregister = onProcessExit(() => {
    execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    rmSync(mountPoint, { recursive: true, force: true });
  });
  const dataDir = path.join(mountPoint, 'data');
  await mkdir(dataDir);
  const filler = path.join(mountPoint, FILLER);

  async function available(): Promise<number> {
    const stats = await statfs(mountPoint);
    return stats.bavail * stats.bsize;
  }

  return {
    mountPoint,
    dataDir,
    available,
    async fill(leaveBytes = 0) {
      // Appends to the filler in shrinking chunks until the next chunk would leave less than asked:
      // blocks are 4 kB, so the result is within a block of `leaveBytes` (exact at 0).
      const fd = openSync(filler, 'a');
      try {
        for (let chunk = 1 << 20; chunk >= 512; ) {
          const left = await available();
          if (left - chunk < leaveBytes) {
            chunk >>= 1;
            continue;
          }
          try {
            writeSync(fd, Buffer.alloc(chunk));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            chunk >>= 1;
          }
        }
      } finally {
        closeSync(fd);
      }
      return available();
    },
    async free() {
      await rm(filler, { force: true });
    },
    async unmount() {
      if (!mounted) return;
      try {
        await run('umount', [mountPoint]);
      } catch {
        // A process still holds a file there: detach now, the kernel frees it when the last one closes.
        await run('umount', ['-l', mountPoint]);
      }
      mounted = false;
      unregister();
      await rmdir(mountPoint).catch(() => undefined);
    },
  };
}
