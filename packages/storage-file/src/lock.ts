import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno, unlinkIfExists } from './fs-util.js';
import type { StorageLogger } from './options.js';

export const LOCK_FILE = '.lock';

/**
 * Data directories locked by this process. Node has no flock(), so the lock file holds the owner's
 * pid; a pid equal to ours is a stale lock from an earlier process that had the same pid (pid 1 in
 * a container) unless this set says another storage in this process holds the directory.
 */
const lockedHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

/** An exclusive hold on a data directory, released on close. */
export class DirectoryLock {
  private constructor(
    private readonly path: string,
    private readonly dir: string,
  ) {}

  static async acquire(dir: string, logger: StorageLogger): Promise<DirectoryLock> {
    const path = join(dir, LOCK_FILE);
    if (lockedHere.has(dir))
      throw new Error(`data directory ${dir} is already open in this process (lock file ${path})`);
    for (let attempt = 0; ; attempt++) {
      try {
        const h = await open(path, 'wx');
        try {
          await h.writeFile(`${process.pid}\n`);
          await h.sync();
        } finally {
          await h.close();
        }
        lockedHere.add(dir);
        return new DirectoryLock(path, dir);
      } catch (e) {
        if (!isErrno(e, 'EEXIST') || attempt > 0) {
          if (isErrno(e, 'EEXIST'))
            throw new Error(`data directory ${dir} is locked: ${path} was taken while opening it`);
          throw new Error(`cannot lock data directory ${dir} (${path}): ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      let owner = Number.NaN;
      try {
        owner = Number((await readFile(path, 'utf8')).trim());
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
        throw new Error(
          `data directory ${dir} is in use by process ${owner} (lock file ${path}); stop that broker or choose another directory`,
        );
      logger.warn({ lockFile: path, owner }, 'removing a stale data directory lock');
      await unlinkIfExists(path);
    }
  }

  async release(): Promise<void> {
    lockedHere.delete(this.dir);
    await unlinkIfExists(this.path);
  }
}
