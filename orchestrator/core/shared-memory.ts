/**
 * The shared-memory object folder of a head or an agent: large values are written once into a
 * file in `/dev/shm/orrery-<uid>/<role>-<host>-<pid>-XXXXXX/` (folder 0700, files 0600), and
 * every process of the machine that needs them maps that file (core/shm-map.ts) instead of
 * receiving the bytes over a socket. A payload then carries the file's path ({@link ShmRef})
 * and no bytes. Files move between owners by hard links (no copy): a head that pulls a node's
 * value links it into its own folder, a worker whose result is its unchanged argument links the
 * argument's file. The folder goes when its process ends (an exit hook) and, after a crash,
 * with the next start's sweep on this host (core/runtime-dir.ts: only this user's folders
 * whose process is dead).
 *
 * Most of the cost of writing a new file on tmpfs is the kernel allocating its pages, not the
 * copy (100 MB: about 28 of 44 ms here). A folder its process owns therefore keeps, after each
 * large write, a file of the same size (rounded up to a MiB) made with its pages allocated on a
 * thread of the pool ({@link WARM_FILES} at most, {@link WARM_MAX_BYTES} in all, removed after
 * {@link WARM_IDLE_MS} without a write): the next write of that size renames it and only copies,
 * as Ray's plasma store copies into memory it allocated up front. A warm file is never a value's
 * file before it is renamed, so no reader can have it mapped.
 *
 * Most warm files are the files of freed values, as plasma reuses the memory of freed objects:
 * the owner renames a freed value's file into the pool instead of removing it, which spares the
 * kernel both freeing its pages and allocating new ones. A write takes such a file only if
 * nothing uses it any more: no other name (a task's result that is its argument), and no process
 * holding it open or mapped, which the kernel answers (a write lease is granted only then; see
 * native/shm-map). A reader's mapping therefore always keeps the value it saw; a file still in use
 * is removed instead.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  renameSync,
  rm,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readWholeFileSync, writeWholeFileSync } from './large-files.ts';
import { fileUnused, preallocateFile, shmReadMode } from './shm-map.ts';
import { ensurePrivateDir, ProcessDir, type ProcessRole } from './runtime-dir.ts';
import type { Payload } from './serialization.ts';

/** Values at least this large go through shared memory (below it a socket hop costs less than a file). */
export const SHM_MIN_BYTES = 1024 * 1024;

/** Warm files a folder keeps at most, bytes they hold at most, and how long they outlive the last write. */
export const WARM_FILES = 3;
export const WARM_MAX_BYTES = 2 ** 31;
export const WARM_IDLE_MS = 5000;
const MIB = 2 ** 20;

/** Where shared memory is: a tmpfs on Linux. Elsewhere there is none and values travel as bytes. */
const SHM_ROOT = '/dev/shm';

/** The folder of this user's shared-memory folders (`/dev/shm/orrery-<uid>`, 0700). */
export function shmRoot(): string {
  return join(SHM_ROOT, `orrery-${process.getuid?.() ?? 'user'}`);
}

/** Whether this machine has shared memory Orrery may use (`ORRERY_SHM=0` turns it off). */
export function shmAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ORRERY_SHM !== '0' && process.platform === 'linux' && existsSync(SHM_ROOT);
}

/**
 * Whether this process shares memory with the agent that reported folder `dir`: the folder is
 * one of this user's shared-memory folders and visible here (an agent on another machine, or in
 * a container with its own /dev/shm, names a folder this process cannot see).
 */
export function sharesMemoryWith(dir: string | undefined): boolean {
  if (!dir || !shmAvailable() || dirname(dir) !== shmRoot()) return false;
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.();
  } catch {
    return false;
  }
}

/**
 * True when `path` names a value file directly inside folder `dir` (a hex name, as
 * {@link ShmFolder} makes them): what the head checks before it reads or links a file another
 * process named, so a node or driver can only point at its own values.
 */
export function isFileOf(dir: string | undefined, path: string): boolean {
  return dir !== undefined && dirname(path) === dir && /^[0-9a-f]+$/.test(basename(path));
}

/** A file with allocated pages, ready to take the next value of up to `bytes`. */
interface WarmFile {
  readonly path: string;
  readonly bytes: number;
  /** The inode of a freed value's file (undefined: made as a warm file). */
  readonly freed?: number;
}

/** The folders this process owns and has not closed, by path: where a freed file may be reused. */
const owned = new Map<string, ShmFolder>();

/** A process's folder of shared-memory values. */
export class ShmFolder {
  /** Warm files ready to write into, and those being made. */
  private readonly warm: WarmFile[] = [];
  private readonly warming = new Set<WarmFile>();
  private idle: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    /** The folder (made by this process, or by its agent for a worker). */
    readonly path: string,
    private readonly dir?: ProcessDir,
  ) {}

  /**
   * Makes this process's folder (sweeping those of dead processes first); undefined where the
   * machine has no shared memory, or where `/dev/shm/orrery-<uid>` is not a private folder of
   * this user (another user may have made it first): then `warn` hears why, and values travel
   * as bytes, as they would without shared memory.
   */
  static create(role: ProcessRole, warn: (line: string) => void): ShmFolder | undefined {
    if (!shmAvailable()) return undefined;
    try {
      const root = ensurePrivateDir(shmRoot());
      const dir = ProcessDir.create(role, { data: root, runtime: root });
      const folder = new ShmFolder(dir.path, dir);
      owned.set(folder.path, folder);
      return folder;
    } catch (err) {
      warn(`orrery: shared memory is not used: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The folder another process of this machine made (a worker writes into its agent's). */
  static join(path: string): ShmFolder {
    return new ShmFolder(path);
  }

  /**
   * Writes `data` into a new file of this folder; the payload names the file instead of holding
   * the bytes. Undefined when shared memory is full (a container's 64 MB /dev/shm): the caller
   * keeps the value in its own memory, as without shared memory.
   */
  write(data: Uint8Array, like: Pick<Payload, 'marked' | 'typed'>): Payload | undefined {
    const path = this.newPath();
    try {
      if (!this.writeWarm(path, data)) writeWholeFileSync(path, data, { flag: 'wx', mode: 0o600 });
    } catch {
      rmSync(path, { force: true });
      return undefined;
    }
    this.warmUp(data.byteLength);
    return shmPayload(path, data.byteLength, like);
  }

  /** Writes `data` into a warm file large enough, renamed to `path`; false when there is none (or it failed). */
  private writeWarm(path: string, data: Uint8Array): boolean {
    for (;;) {
      const fits = this.warm.filter((w) => w.bytes >= data.byteLength).sort((a, b) => a.bytes - b.bytes)[0];
      if (!fits) return false;
      this.warm.splice(this.warm.indexOf(fits), 1);
      // A freed value's file is checked now, when its readers have had the most time to let go.
      if (fits.freed !== undefined && !fileUnused(fits.path)) {
        removeFile(fits.path);
        continue;
      }
      try {
        renameSync(fits.path, path);
        const fd = openSync(path, 'r+');
        try {
          for (let at = 0; at < data.byteLength; )
            at += writeSync(fd, data, at, Math.min(2 ** 30, data.byteLength - at), at);
          if (fits.bytes > data.byteLength) ftruncateSync(fd, data.byteLength);
        } finally {
          closeSync(fd);
        }
        return true;
      } catch {
        rmSync(fits.path, { force: true });
        rmSync(path, { force: true });
        return false;
      }
    }
  }

  /** After a write of `bytes`: a warm file for the next one, where this process owns the folder and memory allows. */
  private warmUp(bytes: number): void {
    if (!this.dir || this.closed || bytes < SHM_MIN_BYTES) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.coolDown(), WARM_IDLE_MS).unref();
    // Freed values' files may come back for the next write, but only a made one is sure to.
    const size = Math.ceil(bytes / MIB) * MIB;
    const made = (w: WarmFile) => w.freed === undefined && w.bytes >= size;
    if (this.warm.some(made) || [...this.warming].some(made) || !this.roomFor(size)) return;
    const file: WarmFile = { path: this.warmPath(), bytes: size };
    const started = preallocateFile(file.path, size, (error) => {
      this.warming.delete(file);
      if (error !== null || this.closed) return void rmSync(file.path, { force: true });
      this.warm.push(file);
      this.idle?.refresh();
    });
    if (started) this.warming.add(file);
  }

  /**
   * Keeps the file of a freed value of this folder as a warm file while the pool has room (else
   * removes it). Whether nothing uses it any more (no other name, no process has it open or
   * mapped: a reader's mapping must keep the value it saw) is checked when a write would take it
   * ({@link fileUnused}); renamed now, so no reader told the old name can open it from here on.
   */
  reuse(path: string, bytes: number): void {
    const pool = [...this.warm, ...this.warming];
    // Only a folder written into lately keeps them (an agent whose values all come from its
    // workers never writes, and its names would only keep the head's files from coming back).
    const keep = this.idle !== undefined && bytes >= SHM_MIN_BYTES && pool.length < WARM_FILES;
    if (!keep || shmReadMode().mode !== 'mmap' || !this.roomFor(bytes)) return removeFile(path);
    let freed: number;
    try {
      freed = lstatSync(path).ino;
    } catch {
      return; // Gone already.
    }
    // Another name of a file already kept (a task's result that is its argument) only goes.
    if (pool.some((w) => w.freed === freed)) return removeFile(path);
    const file: WarmFile = { path: this.warmPath(), bytes, freed };
    try {
      renameSync(path, file.path);
    } catch {
      return;
    }
    this.warm.push(file);
  }

  /** Whether a warm file of `bytes` fits: the pool's byte cap, and /dev/shm keeping room for four more such files. */
  private roomFor(bytes: number): boolean {
    if ([...this.warm, ...this.warming].reduce((n, w) => n + w.bytes, bytes) > WARM_MAX_BYTES) return false;
    const fs = statfsSync(this.path);
    return fs.bavail * fs.bsize >= 4 * bytes;
  }

  private warmPath(): string {
    return join(this.path, `warm-${randomBytes(8).toString('hex')}`);
  }

  /** Removes the warm files (no write for a while, or the folder closes). */
  private coolDown(): void {
    this.idle = undefined;
    for (const w of this.warm.splice(0)) removeFile(w.path);
  }

  /** A new name in this folder for file `source` (no copy; undefined when it is gone). */
  link(source: string, bytes: number, like: Pick<Payload, 'marked' | 'typed'>): Payload | undefined {
    const path = this.newPath();
    try {
      linkSync(source, path);
    } catch {
      return undefined;
    }
    return shmPayload(path, bytes, like);
  }

  /** `p` owned by this folder: a payload naming another process's file gets its own link (undefined: gone). */
  adopt(p: Payload): Payload | undefined {
    if (!p.shm || p.shm.path.startsWith(`${this.path}/`)) return p;
    return this.link(p.shm.path, p.shm.bytes, p);
  }

  /** Removes the whole folder (this process's own; a worker's joined folder is its agent's to remove). */
  close(): void {
    this.closed = true;
    owned.delete(this.path);
    clearTimeout(this.idle);
    this.coolDown();
    this.dir?.remove();
  }

  private newPath(): string {
    return join(this.path, randomBytes(12).toString('hex'));
  }
}

function shmPayload(path: string, bytes: number, like: Pick<Payload, 'marked' | 'typed'>): Payload {
  const p: Payload = { data: new Uint8Array(0), marked: like.marked, shm: { path, bytes } };
  return like.typed ? { ...p, typed: like.typed } : p;
}

/** The size of a payload's value, wherever its bytes are. */
export function payloadBytes(p: Payload): number {
  return p.shm ? p.shm.bytes : p.data.byteLength;
}

/** `p` with its bytes in memory (read from its file: one copy), for a process on another machine or a spill. */
export function inlinePayload(p: Payload): Payload {
  if (!p.shm) return p;
  const data = readWholeFileSync(p.shm.path);
  return p.typed ? { data, marked: p.marked, typed: p.typed } : { data, marked: p.marked };
}

/**
 * Removes the file of a shared-memory payload (its owner freed or spilled it; mappings stay
 * valid), or, in a folder this process owns, keeps its pages for the next value when nothing
 * uses it any more ({@link ShmFolder.reuse}). Removed off this thread: freeing a large file's
 * pages takes the kernel a while (100 MB: about 20 ms here), which an agent's event loop should
 * not wait for.
 */
export function removeShmFile(p: Payload): void {
  if (!p.shm) return;
  const folder = owned.get(dirname(p.shm.path));
  if (folder) folder.reuse(p.shm.path, p.shm.bytes);
  else removeFile(p.shm.path);
}

function removeFile(path: string): void {
  rm(path, { force: true }, () => undefined);
}

/**
 * How long a spilled value's file stays after the spill: a reader may have just been sent its
 * path and not mapped it yet (mappings already made stay valid whatever happens to the file).
 */
const SPILLED_FILE_LINGER_MS = 30_000;

/** Removes a spilled value's file once readers just told its path have had time to map it. */
export function removeSpilledShmFile(p: Payload): void {
  if (p.shm) setTimeout(() => removeShmFile(p), SPILLED_FILE_LINGER_MS).unref();
}
