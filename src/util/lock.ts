/**
 * A lock file per piece of work, so two processes (two shells, a pool and a notebook, two queue workers
 * sharing an artifacts folder) never write the same run at once. The file holds the holder's pid, host
 * and start time; the holder refreshes its modification time (a heartbeat), so a lock is stale when its
 * process is gone (same host) or its heartbeat stopped (another host, whose processes cannot be seen).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processAlive } from './atomic';
import { KitError } from './check';

/** How often the holder touches its lock file. */
const HEARTBEAT_MS = 30_000;
/** A lock from another host without a heartbeat for this long is taken over. */
export const STALE_AFTER_MS = 10 * 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export interface Lock {
  file: string;
  release(): void;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined; // gone meanwhile, or half-written by a process killed while creating it
  }
}

function isStale(file: string, holder: LockHolder | undefined): boolean {
  if (!holder || typeof holder.pid !== 'number') return true;
  if (holder.host === os.hostname()) return !processAlive(holder.pid);
  try {
    return Date.now() - fs.statSync(file).mtimeMs > STALE_AFTER_MS;
  } catch {
    return true;
  }
}

/**
 * Takes the lock `file` for `what`, or throws one line naming the holder (`fn` names the caller). A
 * stale lock is moved aside and taken over; of two processes taking over at once, one wins.
 */
export function takeLock(file: string, what: string, fn: string): Lock {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let tries = 0; ; tries++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (tries > 2 || !isStale(file, holder)) {
      const who = holder ? `pid ${holder.pid} on host ${holder.host} since ${holder.since}` : 'a process';
      throw new KitError(
        `Error in ${fn}: ${what} must be trained by one process at a time, got one already training it (${who}; lock ${file}). Wait for it to finish; if that process is gone, delete the lock file.`,
      );
    }
    // Moved aside, then checked: when another process took the stale lock over first, what was moved
    // is its fresh lock, and it goes back.
    const aside = `${file}.${process.pid}.stale`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue; // moved by another process meanwhile; look again
    }
    if (JSON.stringify(readHolder(aside)) === JSON.stringify(holder)) fs.rmSync(aside, { force: true });
    else fs.renameSync(aside, file);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now, () => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    file,
    release() {
      clearInterval(heartbeat);
      if (JSON.stringify(readHolder(file)) === JSON.stringify(me)) fs.rmSync(file, { force: true });
    },
  };
}
