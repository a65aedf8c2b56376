/**
 * The batch or session an `ibm-quantum` backend's jobs share, as a private file (0600 in a
 * 0700 folder under ~/.orrery) that the backend's circuit workers and its head-side keeper
 * read and change under an exclusive lock (core/file-lock.ts). One entry per device: a session is bound to
 * the device it was opened on.
 */
import { readFileSync, rmSync } from 'node:fs';
import { acquireLock } from '../../../orchestrator/core/file-lock.ts';
import { writePrivateFile } from '../../../orchestrator/core/runtime-dir.ts';

/** One open batch or session. */
export interface SessionEntry {
  readonly id: string;
  readonly mode: 'batch' | 'dedicated';
  readonly device: string;
  readonly openedAt: number;
  /** Last time a job joined or left it (ms since the epoch); the idle clock starts here. */
  lastUsedAt: number;
  /** Jobs submitted in it that have not reached a final state (as far as the workers told). */
  inFlight: number;
}

/** The session file of one backend. */
export class SessionFile {
  constructor(readonly path: string) {}

  /** The entries now (empty when there is no file or it cannot be read). */
  read(): SessionEntry[] {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as { sessions?: SessionEntry[] };
      return Array.isArray(parsed.sessions) ? parsed.sessions : [];
    } catch {
      return [];
    }
  }

  write(entries: readonly SessionEntry[]): void {
    if (entries.length === 0) rmSync(this.path, { force: true });
    else writePrivateFile(this.path, JSON.stringify({ sessions: entries }));
  }

  /** Runs `fn` holding the file's lock (core/file-lock.ts: a lock left by a dead process is taken over). */
  async locked<T>(fn: (entries: SessionEntry[]) => Promise<T> | T): Promise<T> {
    const release = await acquireLock(`${this.path}.lock`);
    try {
      return await fn(this.read());
    } finally {
      release();
    }
  }
}
