/**
 * Private runtime files. Orrery's sockets, spilled values, command tasks' working folders and
 * durable agents' files live in folders only this user can enter, never at predictable paths in
 * a shared temp folder (another user could read them, or pre-create the folder and swap files).
 *
 * - Sockets go under {@link runtimeRoot}: `$XDG_RUNTIME_DIR/orrery` when that folder is usable
 *   (ours, mode 0700), else the data root.
 * - Data goes under {@link dataRoot}: `$ORRERY_HOME/run` (`~/.orrery/run`). Spills and working
 *   folders can be large, and XDG_RUNTIME_DIR is a small tmpfs in memory, so they stay on disk.
 *
 * Each head and agent makes its own folder in them with mkdtemp (`<role>-<host>-<pid>-XXXXXX`,
 * mode 0700), removes it when it ends, and sweeps the folders this host's dead processes left.
 * An existing folder that is a symbolic link, belongs to another user, or is open to group or
 * others is refused with {@link UnsafeRuntimeDirError}; files are created exclusively, mode 0600.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { UnsafeRuntimeDirError } from './errors.ts';

/** Who made a process folder (the first word of its name). */
export type ProcessRole = 'head' | 'agent';

/** `<role>-<host>-<pid>-<6 characters of mkdtemp>`. */
const PROCESS_DIR = /^(head|agent)-(.+)-(\d+)-[A-Za-z0-9]{6}$/;
/** This host in folder names: a home folder may be shared by several hosts (Slurm), and pids are per host. */
const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_');

/** Where Orrery keeps its files: `$ORRERY_HOME`, else `~/.orrery`. */
export function orreryHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.ORRERY_HOME ?? join(homedir(), '.orrery');
}

/** The folder for private data (spills, working folders, durable agents' files): `$ORRERY_HOME/run`. */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(orreryHome(env), 'run');
}

/** The folder for sockets: `$XDG_RUNTIME_DIR/orrery` when XDG_RUNTIME_DIR is ours and private, else {@link dataRoot}. */
export function runtimeRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg)) {
    try {
      if (unsafety(lstatSync(xdg)) === undefined) return join(xdg, 'orrery');
    } catch {
      // Set but missing (a stale variable after logout): use the data root.
    }
  }
  return dataRoot(env);
}

/**
 * Makes folder `path` (mode 0700, and any missing parents) or checks the one that is there;
 * returns `path`. Throws UnsafeRuntimeDirError for a symbolic link, another user's folder, or a
 * folder open to group or others.
 */
export function ensurePrivateDir(path: string): string {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    // A file in the way: refused below, like any other unsafe entry.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(path);
  const problem = unsafety(st);
  if (problem) throw new UnsafeRuntimeDirError(path, problem.problem, problem.remedy);
  // A folder just made has 0700 less the umask; make it exactly 0700 (an odd umask may clear owner bits).
  if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
  return path;
}

/** Why a folder is not private (undefined: it is ours, a real folder, closed to group and others). */
function unsafety(st: Stats): { problem: string; remedy: string } | undefined {
  if (st.isSymbolicLink())
    return { problem: 'is a symbolic link', remedy: 'Remove the link; Orrery makes a real folder there, mode 0700.' };
  if (!st.isDirectory())
    return { problem: 'is not a folder', remedy: 'Move it away; Orrery makes a folder there, mode 0700.' };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    return {
      problem: `belongs to another user (uid ${st.uid})`,
      remedy: 'Ask them or an administrator to remove it, or set ORRERY_HOME to a folder of your own.',
    };
  if ((st.mode & 0o077) !== 0)
    return {
      problem: `is open to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`,
      remedy: 'If nobody else should use it, make it private with `chmod 700` on it.',
    };
  return undefined;
}

/**
 * Writes a private file: an existing one is removed first and the new one is created
 * exclusively (`wx`) with mode 0600, so no one else's file or link is ever written through.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  rmSync(path, { force: true });
  writeFileSync(path, data, { flag: 'wx', mode: 0o600 });
}

/**
 * A name as one safe component of a file name or Slurm job name: letters, digits, `.`, `_` and
 * `-` stay, every other byte becomes `%XX`. Distinct names stay distinct; no `/`, quote, space
 * or shell character survives. Past `maxLength` the end is replaced by `~` and a digest of the
 * whole name (`~` never appears otherwise, so a shortened name cannot equal a plain one).
 */
export function fileSafeName(name: string, maxLength = Number.POSITIVE_INFINITY): string {
  const safe = Array.from(Buffer.from(name, 'utf8'), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9._-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  if (safe.length <= maxLength) return safe;
  return `${safe.slice(0, Math.max(0, maxLength - 13))}~${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/** The file name of a socket named after `name` (kept short: a Unix socket's whole path must fit in 107 bytes). */
export function socketFileName(name: string): string {
  return `${fileSafeName(name, 48)}.sock`;
}

/** Where a process keeps its data and its sockets (often the same folder). */
export interface ProcessRoots {
  readonly data: string;
  readonly runtime: string;
}

/** Process folders not yet removed, removed when the process exits (also without a shutdown). */
const live = new Set<ProcessDir>();
let exitHook = false;

/** The folders of one head or agent process: data on disk, sockets in the runtime root. */
export class ProcessDir {
  private socketDir: string | undefined;
  private removed = false;

  private constructor(
    /** The data folder (`<data root>/<role>-<host>-<pid>-XXXXXX`, 0700). */
    readonly path: string,
    private readonly role: ProcessRole,
    private readonly roots: ProcessRoots,
  ) {
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const d of live) d.remove();
      });
    }
  }

  /**
   * Makes this process's folder under `roots.data` (sweeping the folders of dead processes of
   * this host first); sockets go under `roots.runtime`, in a folder of their own when it differs.
   */
  static create(role: ProcessRole, roots: ProcessRoots = { data: dataRoot(), runtime: runtimeRoot() }): ProcessDir {
    return new ProcessDir(makeProcessDir(roots.data, role), role, roots);
  }

  /** A private subfolder, made if missing. */
  subdir(name: string): string {
    const path = join(this.path, name);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return path;
  }

  /** A path for a Unix socket of this process (in the runtime root: short, and private). */
  socketPath(name: string): string {
    this.socketDir ??=
      this.roots.runtime === this.roots.data ? this.path : makeProcessDir(this.roots.runtime, this.role);
    return join(this.socketDir, name);
  }

  /** Removes the folders and everything in them (idempotent). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    for (const dir of new Set([this.path, this.socketDir ?? this.path])) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // Still in use at exit (a file being written): the next sweep on this host removes it.
      }
    }
  }
}

function makeProcessDir(root: string, role: ProcessRole): string {
  ensurePrivateDir(root);
  sweepDeadProcessDirs(root);
  return mkdtempSync(join(root, `${role}-${HOST}-${process.pid}-`));
}

/**
 * Removes the process folders in `root` that this host's processes left when they were killed.
 * Only real folders owned by this user whose process is gone: a symbolic link is never followed
 * (lstat), another user's entry is left alone, and nothing outside `root` is touched.
 */
export function sweepDeadProcessDirs(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = PROCESS_DIR.exec(name);
    if (!m || m[2] !== HOST) continue;
    const pid = Number(m[3]);
    if (pid === process.pid || isAlive(pid)) continue;
    const path = join(root, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      rmSync(path, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Removed meanwhile by another sweep: nothing left to do.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process not yet reaped by its parent (a zombie) still answers signal 0, but it
  // will never remove its folder.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.[0] !== 'Z';
  } catch {
    return true;
  }
}
