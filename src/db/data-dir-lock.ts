/**
 * Two processes must never open the same embedded data folder: PGlite would corrupt it. The first process writes
 * a lock file with its pid; a second one is refused with a message naming the holder. A lock left behind by a
 * process that no longer exists (a crash, SIGKILL) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export class DataDirLocked extends Error {
  override name = 'DataDirLocked';
}

export type DataDirLock = { release(): void; path: string };

type LockOwner = { pid: number; command: string; startedAt: string; hostname?: string };

const LOCK_FILE = 'voltbill.lock';

export function lockDataDir(dataDir: string, command: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(owner), { flag: 'wx' });
      let released = false;
      return {
        path: lockPath,
        release() {
          if (released) return;
          released = true;
          try {
            const current = readOwner(lockPath);
            if (current?.pid === process.pid) fs.unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readOwner(lockPath);
      if (holder && isAlive(holder.pid)) {
        throw new DataDirLocked(
          `the embedded database in ${dataDir} is in use by process ${holder.pid} (voltbill ${holder.command}, ` +
            `started ${holder.startedAt}). Stop that process first, or run this command against the running ` +
            'server through its API, or point DATABASE_URL at a PostgreSQL server that several processes can share.',
        );
      }
      // Stale lock (the holder died): remove it and try again.
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirLocked(`could not take the lock ${lockPath}`);
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
