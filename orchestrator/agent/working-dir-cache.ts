/**
 * The node's cache of shipped working directories: `$ORRERY_HOME/workdirs/<hash>/` (0700), one
 * per content hash, shared by every task, worker and agent of this user on the host (and by all
 * hosts of a shared home, as on a Slurm cluster). A folder is made once: the first worker to
 * need it takes the lock `<hash>.lock` (core/file-lock.ts), fetches
 * the archive object, unpacks it into a random temporary folder and renames that into place;
 * the others wait for the folder to appear. A host that has the folder fetches nothing. Each
 * use touches its mtime, so housekeeping can remove those unused longest.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock } from '../core/file-lock.ts';
import { ensurePrivateDir, orreryHome } from '../core/runtime-dir.ts';
import { unpackArchive } from '../core/working-dir-archive.ts';
import type { ShippedDir } from '../protocol/messages.ts';

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
    if (await isDir(path)) return this.reuse(path, t0);
    const release = await acquireLock(lock);
    try {
      if (await isDir(path)) return this.reuse(path, t0);
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
      release();
    }
  }

  /** A folder already here: its mtime says it was used now (housekeeping removes the oldest). */
  private async reuse(path: string, t0: number): Promise<EnsuredDir> {
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return { path, fetchedBytes: 0, ms: performance.now() - t0 };
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
