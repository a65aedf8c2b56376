/**
 * The batch or session an `ibm-quantum` backend's jobs share, as a private file (0600 in a
 * 0700 folder under ~/.orrery) that the backend's circuit workers and its head-side keeper
 * read and change under an exclusive lock file. One entry per device: a session is bound to
 * the device it was opened on.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
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

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 30_000;
const LOCK_POLL_MS = 15;

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

  /** Runs `fn` holding the file's lock (an exclusive `.lock` file; one left by a dead process is taken over after 30 s). */
  async locked<T>(fn: (entries: SessionEntry[]) => Promise<T> | T): Promise<T> {
    const lock = `${this.path}.lock`;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
        } catch {
          // released meanwhile: try again
        }
        await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
      }
    }
    try {
      return await fn(this.read());
    } finally {
      rmSync(lock, { force: true });
    }
  }
}
