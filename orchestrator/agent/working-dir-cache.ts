/**
 * The node's cache of shipped working directories: `$ORRERY_HOME/workdirs/<hash>/` (0700), one
 * per content hash, shared by every task, worker and agent of this user on the host (and by all
 * hosts of a shared home, as on a Slurm cluster). A folder is made once: the first worker to
 * need it takes a lock (`<hash>.lock`, made with mkdir, which is atomic also on NFS; a holder
 * that died is noticed by its pid on this host, or after ten minutes from another), fetches
 * the archive object, unpacks it into a random temporary folder and renames that into place;
 * the others wait for the folder to appear. A host that has the folder fetches nothing. Each
 * use touches its mtime, so housekeeping can remove those unused longest.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, orreryHome } from '../core/runtime-dir.ts';
import { unpackArchive } from '../core/working-dir-archive.ts';
import type { ShippedDir } from '../protocol/messages.ts';

/** A lock older than this is taken to be left by a dead process. */
const STALE_LOCK_MS = 10 * 60_000;
const POLL_MS = 100;

/** What {@link WorkingDirCache.ensure} did. */
export interface EnsuredDir {
  readonly path: string;
  /** Archive bytes this call fetched (0: the folder was there or another process made it). */
  readonly fetchedBytes: number;
  readonly ms: number;
}

/** `$ORRERY_HOME/workdirs` (`~/.orrery/workdirs`). */
export function workingDirsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(orreryHome(env), 'workdirs');
}

/** Unpacked working directories of this host. */
export class WorkingDirCache {
  private readonly pending = new Map<string, Promise<EnsuredDir>>();

  constructor(private readonly root: string = workingDirsRoot()) {}

  /** The folder of `dir`, made first if this host lacks it (`fetch` reads the archive object). */
  ensure(dir: ShippedDir, fetch: () => Promise<Uint8Array>): Promise<EnsuredDir> {
    if (!/^[0-9a-f]{32}$/.test(dir.hash)) return Promise.reject(new Error(`bad working directory hash ${dir.hash}`));
    let p = this.pending.get(dir.hash);
    if (!p) {
      p = this.make(dir.hash, fetch).finally(() => this.pending.delete(dir.hash));
      this.pending.set(dir.hash, p);
    }
    return p;
  }

  private async make(hash: string, fetch: () => Promise<Uint8Array>): Promise<EnsuredDir> {
    const t0 = performance.now();
    ensurePrivateDir(this.root);
    const path = join(this.root, hash);
    const lock = join(this.root, `${hash}.lock`);
    for (;;) {
      if (await isDir(path)) {
        const now = new Date();
        await utimes(path, now, now).catch(() => {});
        return { path, fetchedBytes: 0, ms: performance.now() - t0 };
      }
      if (await tryLock(lock)) break;
      await waitForLock(lock);
    }
    try {
      if (await isDir(path)) return { path, fetchedBytes: 0, ms: performance.now() - t0 };
      const archive = await fetch();
      const tmp = join(this.root, `.tmp-${hash}-${randomBytes(6).toString('hex')}`);
      await mkdir(tmp, { mode: 0o700 });
      try {
        await unpackArchive(archive, tmp);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        if (!(await isDir(path))) throw err;
      }
      return { path, fetchedBytes: archive.byteLength, ms: performance.now() - t0 };
    } finally {
      await unlock(lock);
    }
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Takes the lock: a folder holding `owner` (this host and pid), so a waiter can tell a dead holder. */
async function tryLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  await writeFile(join(lock, 'owner'), `${hostname()}\n${process.pid}\n`, { mode: 0o600 }).catch(() => {});
  return true;
}

async function unlock(lock: string): Promise<void> {
  await rm(lock, { recursive: true, force: true }).catch(() => {});
}

/**
 * Waits until `lock` is gone. A lock whose holder was a process of this host that is gone, or
 * (another host's) older than STALE_LOCK_MS, is removed.
 */
async function waitForLock(lock: string): Promise<void> {
  for (;;) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(lock);
    } catch {
      return;
    }
    const [host, pid] = (await readFile(join(lock, 'owner'), 'utf8').catch(() => '')).split('\n');
    const deadHere = host === hostname() && Number(pid) > 0 && !alive(Number(pid));
    if (deadHere || Date.now() - st.mtimeMs > STALE_LOCK_MS) {
      await unlock(lock);
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
