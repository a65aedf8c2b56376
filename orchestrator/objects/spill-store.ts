/**
 * Object spilling to local disk (Ray's object spilling): when the head's store or a node's
 * store passes its memory threshold, least recently used values are written here and read
 * back on demand (the head synchronously, agents without blocking their event loop).
 * One file per object, named by its id; files go when their object is freed and at shutdown.
 * The folder is private (core/runtime-dir.ts: in the process's own 0700 folder by default) and
 * each file is created exclusively with mode 0600, so no one else can read or swap a value.
 */
import { constants, copyFileSync, rmSync, unlinkSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { Payload, TypedArrayName } from '../core/serialization.ts';
import { ensurePrivateDir } from '../core/runtime-dir.ts';
import { readWholeFile, readWholeFileSync, writeWholeFile, writeWholeFileSync } from '../core/large-files.ts';

/** Fraction of a store's budget above which values are spilled (Ray: 0.8); the head's store and nodes' stores alike. */
export const SPILL_THRESHOLD = 0.8;

/** A store's budget when none is given: 30% of the machine's RAM. */
export function defaultStoreBudget(): number {
  return Math.floor(totalmem() * 0.3);
}

/** How spill files are created: exclusively (never through someone else's file or link), readable by this user only. */
const PRIVATE_FILE = { flag: 'wx', mode: 0o600 } as const;

/** What is kept in memory about a spilled value (its bytes are on disk). */
export interface SpilledValue {
  readonly path: string;
  readonly marked: boolean;
  readonly typed?: TypedArrayName;
  readonly sizeBytes: number;
}

/** Bytes spilled and restored, the time it took, and the spill files now on disk. */
export interface SpillStats {
  spilledBytes: number;
  spillMs: number;
  restoredBytes: number;
  restoreMs: number;
  files: number;
}

/** Writes and reads spilled values in one folder. */
export class SpillStore {
  private made = false;
  /** Bytes written and read, and the time it took (for benchmarks and the State API). */
  readonly stats: SpillStats = { spilledBytes: 0, spillMs: 0, restoredBytes: 0, restoreMs: 0, files: 0 };

  constructor(readonly dir: string) {}

  /** Writes a value to disk (synchronously: the caller drops its bytes right after). */
  spill(id: string, p: Payload): SpilledValue {
    const path = this.pathOf(id);
    const t0 = performance.now();
    if (p.shm) copyFileSync(p.shm.path, path, constants.COPYFILE_EXCL);
    else writeWholeFileSync(path, p.data, PRIVATE_FILE);
    return this.written(path, p, t0);
  }

  /** Writes a value to disk without blocking; the caller keeps its bytes until this resolves. */
  async spillAsync(id: string, p: Payload): Promise<SpilledValue> {
    const path = this.pathOf(id);
    const t0 = performance.now();
    // A shared-memory value is copied file to file (its file is private already, so is the copy).
    if (p.shm) await copyFile(p.shm.path, path, constants.COPYFILE_EXCL);
    else await writeWholeFile(path, p.data, PRIVATE_FILE);
    return this.written(path, p, t0);
  }

  /** Reads a spilled value back. */
  restore(s: SpilledValue): Payload {
    const t0 = performance.now();
    return this.read(s, readWholeFileSync(s.path), t0);
  }

  /** Reads a spilled value back without blocking. */
  async restoreAsync(s: SpilledValue): Promise<Payload> {
    const t0 = performance.now();
    return this.read(s, await readWholeFile(s.path), t0);
  }

  /** Deletes a spilled value's file (its object was freed). */
  remove(s: SpilledValue): void {
    try {
      unlinkSync(s.path);
      this.stats.files--;
    } catch {
      // Already gone (removed at shutdown, or by hand): nothing left to free.
    }
  }

  private pathOf(id: string): string {
    if (!this.made) {
      ensurePrivateDir(this.dir);
      this.made = true;
    }
    return join(this.dir, id);
  }

  private written(path: string, p: Payload, t0: number): SpilledValue {
    this.stats.spillMs += performance.now() - t0;
    const sizeBytes = p.shm ? p.shm.bytes : p.data.byteLength;
    this.stats.spilledBytes += sizeBytes;
    this.stats.files++;
    return { path, marked: p.marked, typed: p.typed, sizeBytes };
  }

  private read(s: SpilledValue, buf: Buffer, t0: number): Payload {
    this.stats.restoreMs += performance.now() - t0;
    this.stats.restoredBytes += buf.byteLength;
    const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return s.typed ? { data, marked: s.marked, typed: s.typed } : { data, marked: s.marked };
  }

  /** Removes the whole folder (head or agent shutdown). */
  close(): void {
    if (this.made) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    this.made = false;
    this.stats.files = 0;
  }
}
