// A small tmpfs to fill up, for disk-full fault tests. Mounting needs root (CI runs as root):
// when it cannot mount, the test fails with a message saying so — it never skips.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeDir } from '../../src/testing/index.ts';

export interface SmallDisk {
  dir: string;
  /** Fills the disk with a filler file until writes fail with ENOSPC, then frees `leaveBytes` (default 0). */
  fill(leaveBytes?: number): void;
  /** Removes the filler: space returns. */
  free(): void;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const dir = await makeTempDir('sibyl-diskfull-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    await removeDir(dir);
    throw new Error(
      `the disk-full fault tests mount a ${sizeBytes}-byte tmpfs and need root (CAP_SYS_ADMIN) for it; mount failed: ${(err as Error).message}. Run them as root (CI does), e.g. in the CI container.`,
      { cause: err },
    );
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Fill the last partial chunk too.
        for (let size = 32 * 1024; size >= 512; size /= 2) {
          try {
            for (;;) writeSync(fd, chunk.subarray(0, size));
          } catch {
            // next smaller size
          }
        }
      } finally {
        if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    async unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      await removeDir(dir);
    },
  };
}
