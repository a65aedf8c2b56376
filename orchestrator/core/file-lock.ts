/**
 * An exclusive lock between processes that may run on different hosts sharing one home folder
 * (several agents, several heads, Slurm allocations), for work done once per host or per home:
 * building a Python environment, unpacking a working directory, pulling a container image. An
 * atomic `mkdir` of the lock folder (atomic on NFS too),
 * with an `owner` file naming the host and pid and touched every few seconds. A lock is stale,
 * and is taken over, when its owner ran on this host and that pid is gone, or when its owner
 * file has not been touched for {@link STALE_MS} (a dead host, a killed job).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A lock whose owner has not touched it for this long is taken over. */
export const STALE_MS = 60_000;
const HEARTBEAT_MS = 10_000;
const POLL_MS = 200;

/** Who holds a lock (the `owner` file's JSON). */
export interface LockOwner {
  readonly host: string;
  readonly pid: number;
  readonly since: number;
}

/**
 * True when a lock held by `owner` (undefined: no readable owner file) can be taken over:
 * `ageMs` is how long ago its owner file (or the folder) was last touched.
 */
export function isStaleLock(owner: LockOwner | undefined, ageMs: number, here = hostname()): boolean {
  if (ageMs > STALE_MS) return true;
  if (!owner) return false;
  if (owner.host !== here) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Takes the lock at `path` (a folder that must not exist otherwise), waiting while another live
 * process holds it; `onWait` is called once when it has to wait. Returns the release function.
 */
export async function acquireLock(path: string, onWait?: (owner: LockOwner | undefined) => void): Promise<() => void> {
  let waited = false;
  for (;;) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const { owner, ageMs } = readOwner(path);
      if (isStaleLock(owner, ageMs)) {
        breakLock(path, owner);
        continue;
      }
      if (!waited) onWait?.(owner);
      waited = true;
      await new Promise((r) => setTimeout(r, POLL_MS + Math.random() * POLL_MS));
      continue;
    }
    const ownerFile = join(path, 'owner');
    const me: LockOwner = { host: hostname(), pid: process.pid, since: Date.now() };
    writeFileSync(ownerFile, JSON.stringify(me), { mode: 0o600 });
    const beat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(ownerFile, now, now);
      } catch {
        // Taken over (we looked dead): the release below finds nothing of ours to remove.
      }
    }, HEARTBEAT_MS);
    beat.unref();
    return () => {
      clearInterval(beat);
      if (sameOwner(readOwner(path).owner, me)) rmSync(path, { recursive: true, force: true });
    };
  }
}

function readOwner(path: string): { owner: LockOwner | undefined; ageMs: number } {
  const ownerFile = join(path, 'owner');
  try {
    const owner = JSON.parse(readFileSync(ownerFile, 'utf8')) as LockOwner;
    return { owner, ageMs: Date.now() - statSync(ownerFile).mtimeMs };
  } catch {
    // Made but not yet written (or its owner died in between): the folder's own age decides.
    try {
      return { owner: undefined, ageMs: Date.now() - statSync(path).mtimeMs };
    } catch {
      return { owner: undefined, ageMs: 0 };
    }
  }
}

/** Moves a stale lock aside (only if it is still the one judged stale), then removes it. */
function breakLock(path: string, judged: LockOwner | undefined): void {
  if (!sameOwner(readOwner(path).owner, judged)) return;
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke it first
  }
  rmSync(aside, { recursive: true, force: true });
}

function sameOwner(a: LockOwner | undefined, b: LockOwner | undefined): boolean {
  return a?.host === b?.host && a?.pid === b?.pid && a?.since === b?.since;
}
